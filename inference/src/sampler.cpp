#include "sampler.hpp"

#include <algorithm>
#include <cmath>

namespace qdgen::inference {

Sampler::Sampler(const SamplingSettings& settings) : settings_(settings), random_(settings.seed) {}

std::int32_t Sampler::next(std::span<const float> logits) {
  if (settings_.temperature <= 0) {
    return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) -
                                     logits.begin());
  }
  const auto vocab = static_cast<std::int64_t>(logits.size());
  candidates_.clear();
  for (std::int64_t i = 0; i < vocab; ++i) {
    candidates_.emplace_back(static_cast<float>(logits[i] / settings_.temperature),
                             static_cast<std::int32_t>(i));
  }
  // Highest logit first, lowest id among equals: an order that depends on nothing but the row.
  const auto higher = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  const bool nucleus = settings_.top_p < 1.0;
  if (settings_.top_k > 0 && settings_.top_k < vocab) {
    std::nth_element(candidates_.begin(), candidates_.begin() + settings_.top_k, candidates_.end(),
                     higher);
    candidates_.resize(settings_.top_k);
  }

  float max_logit = -std::numeric_limits<float>::infinity();
  for (const auto& [logit, id] : candidates_) max_logit = std::max(max_logit, logit);
  double total = 0;
  for (auto& [logit, id] : candidates_) {
    logit = static_cast<float>(std::exp(static_cast<double>(logit) - max_logit));
    total += logit;
  }
  if (nucleus) {
    // No token of weight below (1 - top_p) * total / (n - 1) can be in the nucleus: the n - 1
    // or fewer tokens at or below it hold less than the 1 - top_p left outside it. (llama2.c's
    // sample_topp prunes so; half that bound leaves room for rounding.) Only the rest is
    // sorted, instead of all 32,000 or so.
    if (candidates_.size() > 1) {
      const double bound =
          0.5 * (1.0 - settings_.top_p) * total / static_cast<double>(candidates_.size() - 1);
      std::erase_if(candidates_, [&](const auto& c) { return c.first < bound; });
    }
    std::sort(candidates_.begin(), candidates_.end(), higher);
    double kept = 0;
    std::size_t count = 0;
    while (count < candidates_.size() && kept < settings_.top_p * total)
      kept += candidates_[count++].first;
    candidates_.resize(std::max<std::size_t>(count, 1));
    total = std::max(kept, static_cast<double>(candidates_[0].first));
  }
  const double draw = static_cast<double>(random_() >> 11) * 0x1.0p-53 * total;
  double cumulative = 0;
  for (const auto& [weight, id] : candidates_) {
    cumulative += weight;
    if (draw < cumulative) return id;
  }
  return candidates_.back().second;
}

}  // namespace qdgen::inference
