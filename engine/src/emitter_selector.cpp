#include "qdgen/engine/emitter_selector.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qdgen::engine {

EmitterSelector::EmitterSelector(const SelectionConfig& config, int num_emitters)
    : config_(config),
      num_emitters_(num_emitters),
      total_reward_(num_emitters, 0.0),
      pulls_(num_emitters, 0) {}

std::vector<int> EmitterSelector::select() {
  std::vector<int> chosen;
  if (config_.kind == SelectionKind::kAll) {
    chosen.resize(num_emitters_);
    std::iota(chosen.begin(), chosen.end(), 0);
    return chosen;
  }
  const int active = std::min(config_.active, num_emitters_);
  if (config_.kind == SelectionKind::kRoundRobin) {
    for (int k = 0; k < active; ++k)
      chosen.push_back(static_cast<int>((cursor_ + k) % num_emitters_));
    cursor_ = (cursor_ + active) % num_emitters_;
    std::sort(chosen.begin(), chosen.end());
    return chosen;
  }
  // UCB1: untried emitters first (lowest index first), then by mean reward plus an
  // exploration bonus scaled to the best mean so the reward's units do not matter.
  const double total_pulls =
      static_cast<double>(std::accumulate(pulls_.begin(), pulls_.end(), std::int64_t{0}));
  double best_mean = 0.0;
  for (int i = 0; i < num_emitters_; ++i)
    if (pulls_[i] > 0) best_mean = std::max(best_mean, total_reward_[i] / double(pulls_[i]));
  const double scale = best_mean > 0.0 ? best_mean : 1.0;
  std::vector<double> score(num_emitters_);
  for (int i = 0; i < num_emitters_; ++i) {
    score[i] = pulls_[i] == 0 ? INFINITY
                              : total_reward_[i] / double(pulls_[i]) +
                                    config_.exploration * scale *
                                        std::sqrt(2.0 * std::log(total_pulls) / double(pulls_[i]));
  }
  std::vector<int> order(num_emitters_);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
  chosen.assign(order.begin(), order.begin() + active);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

void EmitterSelector::reward(const std::vector<int>& selected,
                             const std::vector<double>& gain_per_candidate) {
  for (std::size_t k = 0; k < selected.size(); ++k) {
    total_reward_[selected[k]] += gain_per_candidate[k];
    ++pulls_[selected[k]];
  }
}

nlohmann::json EmitterSelector::state() const {
  return {{"cursor", cursor_}, {"total_reward", total_reward_}, {"pulls", pulls_}};
}

void EmitterSelector::restore(const nlohmann::json& state) {
  cursor_ = state.at("cursor").get<std::int64_t>();
  total_reward_ = state.at("total_reward").get<std::vector<double>>();
  pulls_ = state.at("pulls").get<std::vector<std::int64_t>>();
}

}  // namespace qdgen::engine
