// CMA-ME's random-direction rankers ("rd", "2rd"): ranking by the projection of the
// measures on a direction drawn per restart, scaled by the grid's measure ranges.
#include <gtest/gtest.h>

#include "qdgen/engine/scheduler.hpp"

using namespace qdgen::engine;
using nlohmann::json;
using qdgen::archive::AddStatus;
using qdgen::store::IterationRecord;

namespace {

json cma_me_config(const std::string& ranker, std::uint64_t seed) {
  json c = json::parse(R"({"domain": {"kind": "sphere", "dim": 10}, "iterations": 100,
    "archive": {"type": "grid", "dims": [{"range": [-51.2, 51.2], "cells": 20},
                                          {"range": [-51.2, 51.2], "cells": 20}]},
    "emitters": [{"kind": "cma_es", "count": 2, "batch": 12, "sigma0": 0.5,
                  "selection": "mu", "restart": 10}]})");
  c["emitters"][0]["ranker"] = ranker;
  c["seed"] = seed;
  return c;
}

double coverage_after(const json& c, int iterations) {
  auto scheduler = make_scheduler(parse_experiment_config(c, "t"), 1);
  for (int i = 0; i < iterations; ++i) scheduler->step();
  return scheduler->result_archive().stats().coverage;
}

std::string fingerprint(const std::vector<IterationRecord>& records) {
  std::string text;
  for (const auto& r : records) {
    for (const auto& c : r.candidates) {
      const auto& x = std::get<Eigen::VectorXd>(c.solution);
      text += json(std::vector<double>(x.data(), x.data() + x.size())).dump() + ";";
    }
    text += r.metrics.dump();
  }
  return text;
}

}  // namespace

TEST(RandomDirectionRanker, SpreadsOverTheMeasureSpaceWhereObjectiveRankingConverges) {
  // Ranking by objective pulls every emitter to the optimum's one cell; a random direction
  // in measure space per restart walks the emitters across the grid.
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const double objective = coverage_after(cma_me_config("obj", seed), 60);
    for (const char* ranker : {"rd", "2rd"})
      EXPECT_GT(coverage_after(cma_me_config(ranker, seed), 60), 1.5 * objective)
          << ranker << " seed " << seed;
  }
}

TEST(RandomDirectionRanker, ResumedRunsKeepTheirDirectionsExactly) {
  const json c = cma_me_config("2rd", 4);
  auto reference = make_scheduler(parse_experiment_config(c, "t"), 2);
  std::vector<IterationRecord> uninterrupted;
  for (int i = 0; i < 35; ++i) uninterrupted.push_back(reference->step());

  auto first = make_scheduler(parse_experiment_config(c, "t"), 1);
  std::vector<std::vector<qdgen::archive::Candidate>> added;
  IterationRecord last;
  for (int i = 0; i < 15; ++i) {  // past a restart (every 10 iterations): a second direction
    last = first->step();
    added.emplace_back();
    for (std::size_t k = 0; k < last.candidates.size(); ++k)
      if (last.add_results[k].status != AddStatus::kNotAdded)
        added.back().push_back(last.candidates[k]);
  }
  ASSERT_TRUE(last.engine_state["emitters"][0].contains("direction"));
  auto resumed = make_scheduler(parse_experiment_config(c, "t"), 2);
  resumed->restore(added, last.rng_state, json::parse(last.engine_state.dump()));
  std::vector<IterationRecord> tail;
  for (int i = 15; i < 35; ++i) tail.push_back(resumed->step());
  EXPECT_EQ(fingerprint(tail), fingerprint(std::vector<IterationRecord>(uninterrupted.begin() + 15,
                                                                        uninterrupted.end())));
}

TEST(RandomDirectionRanker, NeedsAGridArchiveAndSaysSo) {
  json c = cma_me_config("rd", 1);
  c["archive"] = {{"type", "novelty"}, {"measure_dim", 2}, {"threshold", 1.0}};
  try {
    parse_experiment_config(c, "exp.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exp.json: emitters[0].ranker: 'rd' and '2rd' project "
                                         "measures on a direction scaled by the measure ranges, "
                                         "which only a grid archive has; archive.type is "
                                         "\"novelty\""),
              std::string::npos)
        << e.what();
  }
  c["emitters"][0]["ranker"] = "3rd";
  try {
    parse_experiment_config(c, "exp.json");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("emitters[0].ranker"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2rd"), std::string::npos) << e.what();
  }
}
