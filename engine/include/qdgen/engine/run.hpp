#pragma once
// Running an experiment end to end: a new run or a resumed one, with or without a run
// store, stopping cleanly between iterations when asked.

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "qdgen/archive/archive.hpp"
#include "qdgen/engine/config.hpp"
#include "qdgen/llm/language_model.hpp"

namespace qdgen::engine {

// Command-line values that take precedence over the config's.
struct RunOverrides {
  std::optional<std::filesystem::path> out;
  std::optional<std::int64_t> iterations;
  std::optional<std::uint64_t> seed;
  std::optional<int> threads;
  bool in_memory = false;            // ignore the config's store: nothing is written
  std::optional<std::string> model;  // the model folder, in place of the config's "model.path"
};

// Loads the model a text domain's config asks for (the command line's embedded module).
using ModelLoader = std::function<std::unique_ptr<llm::LanguageModel>(const ModelConfig& model)>;

struct RunProgress {
  std::int64_t iteration = 0;  // iterations done
  std::int64_t total = 0;
  std::int64_t evaluations = 0;
  double seconds = 0.0;            // wall time of this process's part of the run
  double evaluations_per_s = 0.0;  // over this process's part of the run
  archive::ArchiveStats stats;
  nlohmann::json domain_metrics;  // the domain's own (Vendi of a text domain's elites), or null
};

struct RunSummary {
  RunProgress progress;
  bool finished = false;  // false: stopped early, resumable
  std::optional<std::filesystem::path> store;
  std::string name;
  int threads = 1;
};

using ProgressCallback = std::function<void(const RunProgress&)>;

// The config with the overrides applied, as the run store records it.
nlohmann::json effective_config(const nlohmann::json& config, const RunOverrides& overrides);

// Runs `config` from iteration 0. `stop` is polled between iterations. A domain that needs
// a model gets it from `load_model` (a numeric run never calls it).
RunSummary run_experiment(const ExperimentConfig& config, const RunOverrides& overrides,
                          const std::atomic<bool>& stop, const ProgressCallback& progress,
                          const ModelLoader& load_model = {});

// Continues the run in `store`. When `config` is given it must equal the run's own
// (ignoring "store" and "threads"); a finished run refuses to resume.
RunSummary resume_experiment(const std::filesystem::path& store,
                             const std::optional<ExperimentConfig>& config,
                             std::optional<int> threads, const std::atomic<bool>& stop,
                             const ProgressCallback& progress, const ModelLoader& load_model = {},
                             const std::optional<std::string>& model_path = {});

}  // namespace qdgen::engine
