#pragma once
// A small deterministic search loop (random candidates into a CMA-MAE grid and its plain
// result grid) that writes a run store the way the engine does: used by the resume and
// crash tests to compare a resumed run with an uninterrupted one.

#include <sstream>

#include "archive_test_helpers.hpp"
#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/store/run_store.hpp"

namespace qdgen::store::testing {

using archive::Elite;
using archive::GridArchive;
using archive::GridDimension;
using archive::Rng;
using archive::ThresholdOptions;
using archive::testing::random_batch;

inline ThresholdOptions soft_thresholds() {
  ThresholdOptions options;
  options.learning_rate = 0.2;
  options.threshold_min = -0.5;
  return options;
}

struct SyntheticRun {
  static constexpr int kBatch = 24;
  GridArchive soft{{GridDimension::uniform(0, 1, 6), GridDimension::uniform(0, 1, 6)},
                   soft_thresholds()};
  GridArchive result{{GridDimension::uniform(0, 1, 6), GridDimension::uniform(0, 1, 6)}};
  Rng rng;
  std::int64_t next_id = 0;
  std::int64_t next_iteration = 0;

  explicit SyntheticRun(std::uint64_t seed) : rng(seed) {}

  IterationRecord step() {
    IterationRecord record;
    record.iteration = next_iteration++;
    record.candidates = random_batch(rng, next_id, kBatch, 2, record.iteration);
    next_id += kBatch;
    for (std::size_t i = 0; i < record.candidates.size(); ++i) {
      record.candidates[i].metadata = {{"judge", "synthetic"}, {"i", i}};
      // Candidates without metadata and without an emitter too: both round-trip.
      if (i % 4 == 1) record.candidates[i].metadata = nullptr;
      if (i % 5 != 2) record.candidates[i].emitter = static_cast<std::int32_t>(i % 7);
      record.candidates[i].embedding = Eigen::VectorXf::Constant(3, static_cast<float>(i));
      if (i % 3 == 0) record.candidates[i].solution = "text " + std::to_string(i);
    }
    record.add_results = soft.add(record.candidates);
    record.result_add_results = result.add(record.candidates);
    record.metrics = {{"qd_score", result.stats().qd_score}};
    std::ostringstream state;
    state << rng;
    record.rng_state = state.str();
    record.engine_state = {{"next_id", next_id}};
    return record;
  }

  // Rebuilds both archives and the loop state from a store, as the engine's resume does.
  void resume_from(const RunStore& store) {
    for (const auto& batch : store.added_candidates_by_iteration()) {
      soft.add(batch);
      result.add(batch);
    }
    const auto info = store.info();
    next_iteration = info.last_iteration ? *info.last_iteration + 1 : 0;
    rng.seed(info.seed);  // nothing committed yet: start as a fresh run would
    if (info.last_iteration) {
      std::istringstream state(store.last_rng_state());
      state >> rng;
      next_id = store.last_engine_state().at("next_id").get<std::int64_t>();
    }
  }
};

// Same elites (cell, id, objective) and same thresholds in every cell.
inline bool same_archive(const GridArchive& a, const GridArchive& b, std::string& why) {
  if (a.size() != b.size()) {
    why = "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    return false;
  }
  for (std::int64_t cell = 0; cell < a.num_cells(); ++cell) {
    const Elite* x = a.elite_in_cell(cell);
    const Elite* y = b.elite_in_cell(cell);
    if ((x == nullptr) != (y == nullptr) ||
        (x &&
         (x->candidate.id != y->candidate.id || x->candidate.objective != y->candidate.objective ||
          x->candidate.measures != y->candidate.measures))) {
      why = "cell " + std::to_string(cell) + " differs";
      return false;
    }
    if (a.threshold(cell) != b.threshold(cell)) {
      why = "threshold of cell " + std::to_string(cell) + " differs";
      return false;
    }
  }
  return true;
}

}  // namespace qdgen::store::testing
