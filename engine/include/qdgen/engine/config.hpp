#pragma once
// Experiment configs (experiments/*.json; every key documented in experiments/README.md).
// Parsing validates everything up front; errors are one line naming the file, the key
// path and what was expected.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "qdgen/engine/emitters.hpp"
#include "qdgen/store/run_store.hpp"

namespace qdgen::engine {

struct DomainConfig {
  std::string kind;  // "sphere", "rastrigin", "arm"
  int dim = 0;       // sphere, rastrigin: solution size; arm: joints
  bool clip_angles = true;
};

struct EmitterConfig {
  int count = 1;
  std::variant<GaussianOptions, IsoLineOptions, EvolutionStrategyOptions, MutationOptions> options;
};

enum class SelectionKind { kAll, kRoundRobin, kBandit };
struct SelectionConfig {
  SelectionKind kind = SelectionKind::kAll;
  int active = 0;            // emitters asked per iteration (round robin, bandit)
  double exploration = 1.0;  // UCB1 exploration weight (bandit)
};

using store::KeepCandidates;
struct StoreConfig {
  std::optional<std::filesystem::path> path;  // none: the run stays in memory
  KeepCandidates keep = KeepCandidates::kAll;
  double commit_seconds = 1.0;  // group commits: see RunStore::set_commit_interval
};

struct ExperimentConfig {
  nlohmann::json json;  // the config as written; the run store keeps it
  std::string name;
  DomainConfig domain;
  nlohmann::json archive;  // handed to archive::make_archive
  // null: none; true: a plain archive of the main one's geometry (CMA-MAE's true elites);
  // an archive object: a passive archive of its own (a grid that scores a novelty search).
  nlohmann::json result_archive;
  std::vector<EmitterConfig> emitters;
  SelectionConfig selection;
  std::int64_t iterations = 0;
  std::uint64_t seed = 0;
  int threads = 0;  // 0: all hardware threads
  StoreConfig store;
  std::int64_t log_every = 0;  // plain-log cadence in iterations (0: about 20 lines per run)
};

// `source` names the config in errors (a file path, or "config").
ExperimentConfig parse_experiment_config(const nlohmann::json& json, const std::string& source);
ExperimentConfig load_experiment_config(const std::filesystem::path& path);

}  // namespace qdgen::engine
