#pragma once
// Experiment configs (experiments/*.json; every key documented in experiments/README.md).
// A config parses once into specs and is validated completely on them, building nothing
// (no k-means, no archive); make_scheduler builds it once. Errors are one line naming the
// file, the key path and what was expected.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qdgen/archive/factory.hpp"
#include "qdgen/engine/domain_spec.hpp"
#include "qdgen/engine/emitter_spec.hpp"
#include "qdgen/engine/emitters.hpp"
#include "qdgen/store/run_store.hpp"

namespace qdgen::engine {

// Upper bounds of the top-level integer keys (the kinds' own bounds sit with their parsers).
inline constexpr std::int64_t kMaxIterations = 1'000'000'000;
inline constexpr std::int64_t kMaxThreads = 1024;
inline constexpr std::int64_t kMaxEmitterCount = 10'000;
inline constexpr std::int64_t kMaxLogEvery = 1'000'000'000;

struct EmitterGroup {
  int count = 1;
  std::shared_ptr<const EmitterSpec> spec;
};

enum class SelectionKind { kAll, kRoundRobin, kBandit };
struct SelectionConfig {
  SelectionKind kind = SelectionKind::kAll;
  int active = 0;            // emitters asked per iteration (round robin, bandit)
  double exploration = 1.0;  // UCB1 exploration weight (bandit)
};

// "result_archive": none; true: a plain archive of the main one's geometry (CMA-MAE's true
// elites); an archive object: a passive archive of its own (a grid scoring a novelty search).
enum class ResultArchive { kNone, kPlainTwin, kOwn };

using store::KeepCandidates;
struct StoreConfig {
  std::optional<std::filesystem::path> path;  // none: the run stays in memory
  KeepCandidates keep = KeepCandidates::kAll;
  double commit_seconds = 1.0;  // group commits: see RunStore::set_commit_interval
};

// "model": the language model a text domain mutates and judges with (qdgen run --model
// overrides the path). Adapters: name -> PEFT folder, the experts mixtures name.
struct ModelConfig {
  std::string path;
  std::vector<std::pair<std::string, std::string>> adapters;
  std::string device = "auto";
  int threads = 0;  // the model's CPU threads (0: all cores)
};

struct ExperimentConfig {
  nlohmann::json json;  // the config as written; the run store keeps it
  std::string name;
  std::shared_ptr<const DomainSpec> domain;
  std::shared_ptr<const archive::ArchiveSpec> archive;
  ResultArchive result_archive = ResultArchive::kNone;
  std::shared_ptr<const archive::ArchiveSpec> own_result_archive;  // kOwn
  std::vector<EmitterGroup> emitters;
  SelectionConfig selection;
  std::int64_t iterations = 0;
  std::uint64_t seed = 0;
  int threads = 0;  // 0: all hardware threads
  StoreConfig store;
  std::optional<ModelConfig> model;
  std::int64_t log_every = 0;  // plain-log cadence in iterations (0: about 20 lines per run)
};

// `source` names the config in errors (a file path; empty: none).
ExperimentConfig parse_experiment_config(const nlohmann::json& json, const std::string& source);
ExperimentConfig load_experiment_config(const std::filesystem::path& path);

}  // namespace qdgen::engine
