#pragma once
// Which emitters run in an iteration: all of them, a rotating window (round robin), or
// the UCB1 bandit of Cully's multi-emitter MAP-Elites with the QD-score gain as reward.

#include <vector>

#include "qdgen/engine/config.hpp"

namespace qdgen::engine {

class EmitterSelector {
 public:
  EmitterSelector(const SelectionConfig& config, int num_emitters);

  // Indices of the emitters to ask this iteration, ascending.
  std::vector<int> select();
  // The QD-score gain (sum of positive add values) each selected emitter produced,
  // divided by its batch size.
  void reward(const std::vector<int>& selected, const std::vector<double>& gain_per_candidate);

  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  SelectionConfig config_;
  int num_emitters_;
  std::int64_t cursor_ = 0;
  std::vector<double> total_reward_;
  std::vector<std::int64_t> pulls_;
};

}  // namespace qdgen::engine
