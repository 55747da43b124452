#include "qdgen/engine/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace qdgen::engine;
using nlohmann::json;

namespace {

json small_config() {
  return json::parse(R"({
    "name": "t",
    "domain": {"kind": "sphere", "dim": 4},
    "archive": {"type": "grid", "dims": [{"range": [-10, 10], "cells": 5},
                                          {"range": [-10, 10], "cells": 5}]},
    "emitters": [{"kind": "gaussian", "batch": 4, "sigma": 0.5},
                 {"kind": "iso_line", "batch": 4},
                 {"kind": "cma_es", "count": 2, "batch": 4, "sigma0": 0.5}],
    "iterations": 3
  })");
}

std::string error_of(const json& config) {
  try {
    parse_experiment_config(config, "cfg.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ExperimentConfig, ParsesAValidConfigWithDefaults) {
  const auto c = parse_experiment_config(small_config(), "cfg.json");
  EXPECT_EQ(c.domain->kind(), "sphere");
  EXPECT_EQ(c.domain->solution_dim(), 4);
  EXPECT_EQ(c.archive->type(), "grid");
  EXPECT_EQ(c.result_archive, ResultArchive::kNone);
  ASSERT_EQ(c.emitters.size(), 3u);
  EXPECT_EQ(c.emitters[2].count, 2);
  EXPECT_EQ(c.emitters[2].spec->kind(), "cma_es");
  const auto* iso = emitter_options<IsoLineOptions>(*c.emitters[1].spec);
  ASSERT_NE(iso, nullptr);
  EXPECT_DOUBLE_EQ(iso->line_sigma, 0.2);
  EXPECT_EQ(iso->batch_size, 4);
  EXPECT_EQ(emitter_options<EvolutionStrategyOptions>(*c.emitters[2].spec)->rank_one,
            RankOneUpdate::kHansen);
  EXPECT_EQ(emitter_options<GaussianOptions>(*c.emitters[2].spec), nullptr);
  EXPECT_EQ(c.selection.kind, SelectionKind::kAll);
  EXPECT_EQ(c.seed, 0u);
  EXPECT_FALSE(c.store.path.has_value());
}

TEST(ExperimentConfig, RankOneUpdateSelectsPyribsCovarianceUpdate) {
  auto c = small_config();
  c["emitters"][2]["rank_one"] = "pyribs";
  const auto parsed = parse_experiment_config(c, "cfg.json");
  EXPECT_EQ(emitter_options<EvolutionStrategyOptions>(*parsed.emitters[2].spec)->rank_one,
            RankOneUpdate::kPyribs);
}

TEST(ExperimentConfig, UnknownKeysNameTheirPath) {
  auto c = small_config();
  c["emitters"][2]["sigma"] = 0.5;
  EXPECT_EQ(error_of(c),
            "cfg.json: emitters[2].sigma: unknown key (known: batch, count, kind, rank_one, "
            "ranker, restart, selection, sigma0, x0)");
  c = small_config();
  c["iteratons"] = 5;
  EXPECT_EQ(error_of(c),
            "cfg.json: iteratons: unknown key (known: archive, description, domain, emitters, "
            "iterations, metrics, model, name, result_archive, seed, selection, store, "
            "threads)");
}

TEST(ExperimentConfig, WrongTypesSayWhatWasExpected) {
  auto c = small_config();
  c["emitters"][0]["sigma"] = "x";
  EXPECT_EQ(error_of(c), "cfg.json: emitters[0].sigma: expected a positive number, got \"x\"");
  c = small_config();
  c["iterations"] = "many";
  EXPECT_EQ(error_of(c),
            "cfg.json: iterations: expected an integer in [1, 1000000000], got \"many\"");
  c = small_config();
  c["domain"] = 3;
  EXPECT_EQ(error_of(c), "cfg.json: domain: expected an object, got 3");
  c = small_config();
  c["emitters"] = json::object();
  EXPECT_NE(error_of(c).find("emitters: expected a non-empty array of emitter objects"),
            std::string::npos);
}

TEST(ExperimentConfig, OutOfRangeValuesAreRejected) {
  auto c = small_config();
  c["emitters"][0]["sigma"] = -1;
  EXPECT_EQ(error_of(c), "cfg.json: emitters[0].sigma: expected a positive number, got -1");
  c = small_config();
  c["domain"]["dim"] = 1;
  EXPECT_EQ(error_of(c), "cfg.json: domain.dim: expected an integer in [2, 1000000], got 1");
  c = small_config();
  c["emitters"][2]["ranker"] = "best";
  EXPECT_NE(error_of(c).find("emitters[2].ranker: expected one of \"imp\", \"2imp\""),
            std::string::npos);
  c = small_config();
  c["selection"] = {{"kind", "bandit"}, {"active", 9}};
  EXPECT_EQ(error_of(c),
            "cfg.json: selection.active: expected at most the number of emitters (4), got 9");
  c = small_config();
  c["emitters"][2]["rank_one"] = "c1";
  EXPECT_EQ(error_of(c),
            "cfg.json: emitters[2].rank_one: expected one of \"hansen\", \"pyribs\", got \"c1\"");
  c = small_config();
  c["store"] = {{"commit_seconds", -0.5}};
  EXPECT_EQ(error_of(c),
            "cfg.json: store.commit_seconds: expected a number in [0, 3600], got -0.5");
  c = small_config();
  c["emitters"][0]["x0"] = json::array({1, 2});
  EXPECT_NE(error_of(c).find("emitters[0].x0: expected a number or an array of 4 numbers"),
            std::string::npos);
}

TEST(ExperimentConfig, MissingRequiredKeysAreNamed) {
  auto c = small_config();
  c.erase("iterations");
  EXPECT_EQ(error_of(c), "cfg.json: iterations: missing (required key)");
  c = small_config();
  c["emitters"][0].erase("sigma");
  EXPECT_EQ(error_of(c), "cfg.json: emitters[0].sigma: missing (required key)");
}

TEST(ExperimentConfig, ArchiveSectionErrorsComeFromTheArchiveFactoryWithTheirPath) {
  auto c = small_config();
  c["archive"]["dims"][1]["cells"] = -3;
  const std::string error = error_of(c);
  EXPECT_EQ(error.rfind("cfg.json: archive.dims[1].cells", 0), 0u) << error;
}

TEST(ExperimentConfig, MissingFileAndBadJsonAreOneLineErrors) {
  try {
    load_experiment_config("/nonexistent/exp.json");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/exp.json: cannot open the config file (missing or unreadable)");
  }
  const auto path = std::filesystem::temp_directory_path() /
                    (std::string("qdgen_bad_config.json.") + std::to_string(::getpid()));
  std::ofstream(path) << "{\"domain\": ";
  try {
    load_experiment_config(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos);
  }
  std::filesystem::remove(path);
}

TEST(ExperimentConfig, ShippedConfigsAllParse) {
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(QDGEN_SOURCE_DIR) + "/experiments")) {
    if (entry.path().extension() != ".json") continue;
    EXPECT_NO_THROW(load_experiment_config(entry.path())) << entry.path();
  }
}
