#include "qdgen/engine/scheduler.hpp"

#include <gtest/gtest.h>

#include "qdgen/archive/factory.hpp"
#include "qdgen/engine/emitter_selector.hpp"

using namespace qdgen::engine;
using nlohmann::json;
using qdgen::archive::AddStatus;
using qdgen::store::IterationRecord;

namespace {

json config_json(const std::string& emitters, int dim = 6, int cells = 10) {
  const double bound = dim / 2.0 * 5.12;
  json c = json::parse(R"({"domain": {"kind": "sphere"}, "iterations": 40, "seed": 3})");
  c["domain"]["dim"] = dim;
  c["archive"] = {{"type", "grid"},
                  {"dims", json::array({{{"range", {-bound, bound}}, {"cells", cells}},
                                        {{"range", {-bound, bound}}, {"cells", cells}}})}};
  c["emitters"] = json::parse(emitters);
  return c;
}

const std::string kMapElites = R"([{"kind": "gaussian", "count": 2, "batch": 16, "sigma": 0.5}])";
const std::string kMixed = R"([{"kind": "gaussian", "batch": 8, "sigma": 0.5},
  {"kind": "iso_line", "batch": 8},
  {"kind": "cma_es", "count": 2, "batch": 8, "sigma0": 0.5, "ranker": "2imp"}])";

std::vector<IterationRecord> run(const json& c, int threads, int iterations) {
  auto scheduler = make_scheduler(parse_experiment_config(c, "test"), threads);
  std::vector<IterationRecord> records;
  for (int i = 0; i < iterations; ++i) records.push_back(scheduler->step());
  return records;
}

// Everything observable about a run: every candidate and every verdict.
std::string fingerprint(const std::vector<IterationRecord>& records) {
  std::string text;
  for (const auto& r : records) {
    for (std::size_t i = 0; i < r.candidates.size(); ++i) {
      const auto& c = r.candidates[i];
      const auto& x = std::get<Eigen::VectorXd>(c.solution);
      text += std::to_string(c.id) + ":" +
              json(std::vector<double>(x.data(), x.data() + x.size())).dump() +
              json(c.objective).dump() + json(c.parents).dump() + c.op +
              std::to_string(int(r.add_results[i].status)) + ";";
    }
    text += r.rng_state.substr(0, 40) + r.metrics.dump();
  }
  return text;
}

}  // namespace

TEST(Scheduler, MapElitesFillsTheGridAndRaisesTheQdScore) {
  auto scheduler = make_scheduler(parse_experiment_config(config_json(kMapElites), "t"), 1);
  const auto first = scheduler->step();
  double qd_before = first.metrics["qd_score"].get<double>();
  for (int i = 0; i < 60; ++i) scheduler->step();
  const auto stats = scheduler->result_archive().stats();
  EXPECT_GT(stats.qd_score, qd_before);
  EXPECT_GT(stats.coverage, 0.1);
  EXPECT_EQ(scheduler->evaluations(), 61 * 32);
}

TEST(Scheduler, CandidatesCarryIdsParentsOperatorsAndEmitter) {
  const auto records = run(config_json(kMixed), 1, 3);
  ASSERT_EQ(records[2].candidates.size(), 32u);
  EXPECT_EQ(records[2].candidates.front().id, 64);
  EXPECT_EQ(records[2].candidates.front().iteration, 2);
  EXPECT_EQ(records[2].candidates.front().op, "gaussian");
  EXPECT_EQ(records[2].candidates.front().parents.size(), 1u);
  EXPECT_EQ(records[2].candidates[8].op, "iso_line");
  EXPECT_EQ(records[2].candidates[8].parents.size(), 2u);
  EXPECT_EQ(records[2].candidates[31].op, "cma_es");
  EXPECT_EQ(records[2].candidates[31].emitter, 3);
}

TEST(Scheduler, SameSeedSameRunWithOneAndTwoThreads) {
  for (const auto& emitters : {kMapElites, kMixed}) {
    const auto one = run(config_json(emitters), 1, 25);
    const auto two = run(config_json(emitters), 2, 25);
    EXPECT_EQ(fingerprint(one), fingerprint(two));
  }
  auto other_seed = config_json(kMixed);
  other_seed["seed"] = 4;
  EXPECT_NE(fingerprint(run(config_json(kMixed), 1, 5)), fingerprint(run(other_seed, 1, 5)));
}

TEST(Scheduler, RestoringFromAddedCandidatesAndStateContinuesIdentically) {
  for (const auto& emitters : {kMapElites, kMixed}) {
    const json c = config_json(emitters);
    const auto uninterrupted = run(c, 2, 30);

    // What a run store keeps: the added candidates per iteration and the last state.
    auto first = make_scheduler(parse_experiment_config(c, "t"), 1);
    std::vector<std::vector<qdgen::archive::Candidate>> added;
    IterationRecord last;
    for (int i = 0; i < 12; ++i) {
      last = first->step();
      added.emplace_back();
      for (std::size_t k = 0; k < last.candidates.size(); ++k)
        if (last.add_results[k].status != AddStatus::kNotAdded)
          added.back().push_back(last.candidates[k]);
    }
    auto resumed = make_scheduler(parse_experiment_config(c, "t"), 2);
    resumed->restore(added, last.rng_state, json::parse(last.engine_state.dump()));
    std::vector<IterationRecord> tail;
    for (int i = 12; i < 30; ++i) tail.push_back(resumed->step());
    const std::vector<IterationRecord> expected(uninterrupted.begin() + 12, uninterrupted.end());
    EXPECT_EQ(fingerprint(tail), fingerprint(expected));
  }
}

TEST(Scheduler, CmaMaeKeepsTrueElitesInTheResultArchive) {
  json c = config_json(R"([{"kind": "cma_es", "count": 3, "batch": 12, "sigma0": 0.5,
                            "ranker": "imp", "selection": "mu", "restart": "basic"}])");
  c["archive"]["learning_rate"] = 0.01;
  c["archive"]["threshold_min"] = 0.0;
  c["result_archive"] = true;
  auto scheduler = make_scheduler(parse_experiment_config(c, "t"), 2);
  IterationRecord record;
  for (int i = 0; i < 40; ++i) record = scheduler->step();
  EXPECT_EQ(record.result_add_results.size(), record.candidates.size());
  EXPECT_TRUE(record.metrics.contains("archive"));
  // The result archive holds the best objective per cell, so its QD score is at least
  // the soft-threshold archive's.
  EXPECT_GE(scheduler->result_archive().stats().qd_score, scheduler->archive().stats().qd_score);
  EXPECT_GT(scheduler->result_archive().stats().num_elites, 10);
}

TEST(Scheduler, ArmCmaMeKeepsJointAnglesInsideMinusPiToPi) {
  json c = json::parse(R"({"domain": {"kind": "arm", "joints": 5}, "iterations": 5,
    "archive": {"type": "grid", "dims": [{"range": [-5, 5], "cells": 20}, {"range": [-5, 5], "cells": 20}]},
    "emitters": [{"kind": "cma_es", "count": 2, "batch": 10, "sigma0": 2.0}]})");
  for (const auto& r : run(c, 1, 10))
    for (const auto& cand : r.candidates) {
      const auto& x = std::get<Eigen::VectorXd>(cand.solution);
      EXPECT_LE(x.maxCoeff(), M_PI);
      EXPECT_GE(x.minCoeff(), -M_PI);
    }
}

TEST(Scheduler, MismatchedArchiveAndDomainIsAClearError) {
  json c = config_json(kMapElites);
  c["archive"]["dims"].push_back({{"range", {0, 1}}, {"cells", 2}});
  try {
    make_scheduler(parse_experiment_config(c, "t"), 1);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("archive has 3 measure dimensions, domain 'sphere' has 2"),
              std::string::npos);
  }
}

TEST(Scheduler, MutationEmitterNeedsADomainThatMutates) {
  json c = config_json(R"([{"kind": "mutation", "batch": 4}])");
  try {
    make_scheduler(parse_experiment_config(c, "t"), 1);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("domain 'sphere' offers no mutation operator"),
              std::string::npos);
  }
}

TEST(EmitterSelector, RoundRobinRotatesThroughAllEmitters) {
  EmitterSelector selector({SelectionKind::kRoundRobin, 2, 1.0}, 5);
  EXPECT_EQ(selector.select(), (std::vector<int>{0, 1}));
  EXPECT_EQ(selector.select(), (std::vector<int>{2, 3}));
  EXPECT_EQ(selector.select(), (std::vector<int>{0, 4}));
}

TEST(EmitterSelector, BanditTriesEveryEmitterThenFavoursTheBestReward) {
  EmitterSelector selector({SelectionKind::kBandit, 1, 0.1}, 3);
  std::vector<int> tried;
  for (int i = 0; i < 3; ++i) {
    const auto s = selector.select();
    tried.push_back(s[0]);
    selector.reward(s, {s[0] == 1 ? 5.0 : 0.1});
  }
  EXPECT_EQ(tried, (std::vector<int>{0, 1, 2}));
  int picks_of_best = 0;
  for (int i = 0; i < 50; ++i) {
    const auto s = selector.select();
    picks_of_best += s[0] == 1;
    selector.reward(s, {s[0] == 1 ? 5.0 : 0.1});
  }
  EXPECT_GT(picks_of_best, 40);
}
