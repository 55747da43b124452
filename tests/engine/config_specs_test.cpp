// A config parses once into specs, is checked on them without building anything, and is
// built once; the domain's calls get the run's pool and language model through the context.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "qdgen/archive/cvt_archive.hpp"
#include "qdgen/engine/config.hpp"
#include "qdgen/engine/run.hpp"
#include "qdgen/engine/scheduler.hpp"
#include "qdgen/llm/language_model.hpp"

using namespace qdgen::engine;
using nlohmann::json;

namespace {

json sphere_config() {
  return json::parse(R"({
    "domain": {"kind": "sphere", "dim": 4},
    "archive": {"type": "grid", "dims": [{"range": [-10, 10], "cells": 5},
                                          {"range": [-10, 10], "cells": 5}]},
    "emitters": [{"kind": "gaussian", "batch": 4, "sigma": 0.5}],
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

double seconds_to_parse(const json& config) {
  const auto start = std::chrono::steady_clock::now();
  parse_experiment_config(config, "cfg.json");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(ConfigSpecs, TheRegistriesListEveryKind) {
  EXPECT_EQ(domain_kinds().names(),
            (std::vector<std::string>{"sphere", "rastrigin", "arm", "text"}));
  EXPECT_EQ(emitter_kinds().names(),
            (std::vector<std::string>{"gaussian", "iso_line", "cma_es", "mutation"}));
  json c = sphere_config();
  c["domain"]["kind"] = "poem";
  EXPECT_EQ(error_of(c),
            "cfg.json: domain.kind: expected one of \"sphere\", \"rastrigin\", \"arm\", "
            "\"text\", got \"poem\"");
  c = sphere_config();
  c["domain"]["joints"] = 3;  // an arm's key on a sphere
  EXPECT_EQ(error_of(c), "cfg.json: domain.joints: unknown key (known: dim, kind)");
}

TEST(ConfigSpecs, ParsingACvtConfigRunsNoKMeans) {
  json c = sphere_config();
  // k-means over 10^8 samples for 10^6 centroids would take hours.
  c["archive"] = {{"type", "cvt"},
                  {"cells", 1000000},
                  {"ranges", {{-10, 10}, {-10, 10}}},
                  {"samples", 100000000}};
  EXPECT_LT(seconds_to_parse(c), 5.0);
  c["result_archive"] = true;
  EXPECT_LT(seconds_to_parse(c), 5.0);
}

TEST(ConfigSpecs, ACvtResultArchiveSharesTheMainArchivesCentroids) {
  json c = sphere_config();
  c["archive"] = {
      {"type", "cvt"},        {"cells", 30},          {"ranges", {{-10, 10}, {-10, 10}}},
      {"learning_rate", 0.5}, {"threshold_min", 0.0}, {"seed", 4}};
  c["result_archive"] = true;
  const ExperimentConfig config = parse_experiment_config(c, "cfg.json");
  EXPECT_EQ(config.result_archive, ResultArchive::kPlainTwin);
  const auto scheduler = make_scheduler(config, 1);
  const auto& main = dynamic_cast<const qdgen::archive::CvtArchive&>(scheduler->archive());
  const auto& result = dynamic_cast<const qdgen::archive::CvtArchive&>(scheduler->result_archive());
  EXPECT_EQ(main.centroids(), result.centroids());
  EXPECT_EQ(main.threshold_options().learning_rate, 0.5);
  EXPECT_EQ(result.threshold_options().learning_rate, 1.0);
}

TEST(ConfigSpecs, CrossChecksNeedNoBuild) {
  json c = sphere_config();
  c["archive"]["dims"].push_back({{"range", {0, 1}}, {"cells", 2}});
  EXPECT_EQ(error_of(c),
            "cfg.json: archive: the archive has 3 measure dimensions, domain 'sphere' has 2");
  c = sphere_config();
  c["archive"] = {
      {"type", "novelty"}, {"measure_dim", 2}, {"threshold", 1.0}, {"space", "embedding"}};
  EXPECT_EQ(error_of(c),
            "cfg.json: archive.space: \"embedding\" needs a domain that gives embeddings; "
            "domain 'sphere' gives none");
  c = sphere_config();
  c["emitters"][0] = {{"kind", "mutation"}, {"batch", 4}};
  EXPECT_EQ(error_of(c),
            "cfg.json: emitters[0].kind: \"mutation\" needs a domain with its own mutation "
            "operator; domain 'sphere' offers no mutation operator");
  c = sphere_config();
  c["emitters"][0]["x0"] = {1, 2, 3};
  EXPECT_EQ(error_of(c),
            "cfg.json: emitters[0].x0: expected a number or an array of 4 numbers (the domain's "
            "solution size), got [1,2,3]");
}

TEST(ConfigSpecs, OverridesApplyWithoutParsingAgain) {
  const ExperimentConfig config = parse_experiment_config(sphere_config(), "cfg.json");
  const std::atomic<bool> stop{false};
  RunOverrides overrides;
  overrides.in_memory = true;
  overrides.iterations = 2;
  overrides.seed = 9;
  const RunSummary summary = run_experiment(config, overrides, stop, {});
  EXPECT_EQ(summary.progress.iteration, 2);
  EXPECT_TRUE(summary.finished);
  EXPECT_FALSE(summary.store.has_value());
  overrides.iterations = 0;
  try {
    run_experiment(config, overrides, stop, {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "iterations (overridden): expected an integer in [1, 1000000000], got 0");
  }
  overrides.iterations.reset();
  overrides.threads = 100000000;
  try {
    run_experiment(config, overrides, stop, {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "threads (overridden): expected an integer in [0, 1024], got 100000000");
  }
}

namespace {

// A language model no test calls: the domain below only checks it is the one handed over.
class UnusedModel final : public qdgen::llm::LanguageModel {
 public:
  std::string description() const override { return "unused"; }
  std::vector<qdgen::llm::Generation> generate(std::span<const qdgen::llm::GenerationRequest>,
                                               qdgen::llm::GenerationStats*) override {
    throw std::logic_error("not called");
  }
  std::vector<std::vector<qdgen::llm::ContinuationScore>> score(
      std::span<const qdgen::llm::ScoreRequest>) override {
    throw std::logic_error("not called");
  }
  std::vector<std::vector<float>> embed(std::span<const qdgen::llm::EmbedRequest>) override {
    throw std::logic_error("not called");
  }
};

// Records the context its batch calls receive; objective = first coordinate.
class ContextRecordingDomain final : public Domain {
 public:
  std::string name() const override { return "recording"; }
  int solution_dim() const override { return 4; }
  int measure_dim() const override { return 2; }
  Evaluation evaluate(const qdgen::archive::Solution& solution) const override {
    const auto& x = std::get<Eigen::VectorXd>(solution);
    return {x[0], x.head(2), std::nullopt, nullptr};
  }
  void evaluate_batch(std::span<qdgen::archive::Candidate> batch,
                      const DomainContext& context) const override {
    models.push_back(context.model);
    threads.push_back(context.pool.threads());
    Domain::evaluate_batch(batch, context);
  }
  mutable std::vector<qdgen::llm::LanguageModel*> models;
  mutable std::vector<int> threads;
};

}  // namespace

TEST(DomainContext, TheDomainGetsTheRunsPoolAndLanguageModel) {
  const ExperimentConfig config = parse_experiment_config(sphere_config(), "cfg.json");
  UnusedModel model;
  auto domain = std::make_unique<ContextRecordingDomain>();
  const ContextRecordingDomain& recorder = *domain;
  std::vector<std::unique_ptr<Emitter>> emitters;
  emitters.push_back(config.emitters[0].spec->build());
  Scheduler scheduler(std::move(domain), config.archive->build(), nullptr, std::move(emitters),
                      config.selection, 1, 2, &model);
  scheduler.step();
  scheduler.step();
  EXPECT_EQ(recorder.models, (std::vector<qdgen::llm::LanguageModel*>{&model, &model}));
  EXPECT_EQ(recorder.threads, (std::vector<int>{2, 2}));
  // A numeric run gets no model.
  auto plain = make_scheduler(config, 1);
  EXPECT_EQ(plain->domain().name(), "sphere");
}
