#include "qdgen/engine/run.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>

#include "qdgen/common/json_parse.hpp"
#include "qdgen/common/json_reader.hpp"
#include "qdgen/engine/background_commit.hpp"
#include "qdgen/engine/scheduler.hpp"
#include "qdgen/store/run_store.hpp"

namespace qdgen::engine {

namespace {

using Clock = std::chrono::steady_clock;

// The parts of a config that may differ between the run and a resume of it.
nlohmann::json comparable(nlohmann::json config) {
  config.erase("store");
  config.erase("threads");
  // A model folder may move (or be given with --model) between a run and its resume.
  if (config.contains("model") && config["model"].is_object()) config["model"].erase("path");
  return config;
}

// The model a text domain needs, loaded once per process; numeric runs load none.
std::unique_ptr<llm::LanguageModel> model_for(const ExperimentConfig& config,
                                              const std::optional<std::string>& path,
                                              const ModelLoader& load_model) {
  if (!config.domain->needs_model()) {
    if (path)
      throw std::runtime_error("--model: domain '" + config.domain->kind() +
                               "' uses no language model");
    return nullptr;
  }
  ModelConfig model = config.model.value_or(ModelConfig{});
  if (path) model.path = *path;
  if (model.path.empty())
    throw std::runtime_error("domain '" + config.domain->kind() +
                             "' needs a language model: give the config a \"model\": "
                             "{\"path\": ...} or pass --model DIR");
  if (!load_model)
    throw std::runtime_error("domain '" + config.domain->kind() +
                             "' needs a language model and this caller loads none");
  return load_model(model);
}

RunSummary drive(Scheduler& scheduler, store::RunStore* store, std::int64_t total,
                 const std::string& name, const std::atomic<bool>& stop,
                 const ProgressCallback& progress) {
  RunSummary summary;
  summary.name = name;
  summary.threads = scheduler.threads();
  const auto start = Clock::now();
  const std::int64_t start_evaluations = scheduler.evaluations();
  scheduler.set_capture_state(store != nullptr);
  auto fill = [&](RunProgress& p) {
    p.iteration = scheduler.next_iteration();
    p.total = total;
    p.evaluations = scheduler.evaluations();
    p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    p.evaluations_per_s =
        p.seconds > 0 ? double(p.evaluations - start_evaluations) / p.seconds : 0.0;
    p.stats = scheduler.stats();
    p.domain_metrics = scheduler.domain_metrics();
  };
  // Iteration i is written while i + 1 is computed; its buffers go back to the scheduler
  // once it is committed.
  std::optional<BackgroundCommit> writer;
  if (store != nullptr)
    writer.emplace(*store, [&](store::IterationRecord&& r) { scheduler.dispose(std::move(r)); });
  try {
    while (scheduler.next_iteration() < total && !stop.load()) {
      store::IterationRecord record = scheduler.step();
      if (writer)
        writer->submit(std::move(record));
      else
        scheduler.dispose(std::move(record));
      if (progress) {
        RunProgress p;
        fill(p);
        progress(p);
      }
    }
  } catch (const std::exception& error) {
    // The iterations before the failing one stay committed, and the run says it failed and
    // why, instead of staying "running" (which reads as a run still going, or killed).
    const std::string reason =
        "iteration " + std::to_string(scheduler.next_iteration()) + ": " + error.what();
    if (writer) {
      try {
        writer->finish();
        writer.reset();
        store->mark_failed(reason);
      } catch (const std::exception&) {
        // The store cannot take it (a full disk, say): the first error is the one to report.
      }
    }
    throw;
  }
  fill(summary.progress);
  summary.finished = scheduler.next_iteration() >= total;
  if (writer) {
    writer->finish();
    writer.reset();
    store->flush();  // a stopped run leaves every iteration it made committed
    if (summary.finished) store->set_status(store::RunStatus::kFinished);
  }
  return summary;
}

}  // namespace

nlohmann::json effective_config(const nlohmann::json& config, const RunOverrides& overrides) {
  nlohmann::json effective = config;
  if (overrides.iterations) effective["iterations"] = *overrides.iterations;
  if (overrides.seed) effective["seed"] = *overrides.seed;
  if (overrides.out) effective["store"]["path"] = overrides.out->string();
  if (overrides.in_memory) effective.erase("store");
  if (overrides.model) effective["model"]["path"] = *overrides.model;
  return effective;
}

namespace {

// The config with the overrides applied, as parsing effective_config() would give it.
ExperimentConfig with_overrides(ExperimentConfig config, const RunOverrides& overrides) {
  config.json = effective_config(config.json, overrides);
  if (overrides.iterations) {
    if (*overrides.iterations < 1 || *overrides.iterations > kMaxIterations)
      throw common::JsonError("iterations (overridden): expected an integer in [1, " +
                              std::to_string(kMaxIterations) + "], got " +
                              std::to_string(*overrides.iterations));
    config.iterations = *overrides.iterations;
  }
  if (overrides.seed) config.seed = *overrides.seed;
  if (overrides.out) config.store.path = *overrides.out;
  if (overrides.in_memory) config.store = StoreConfig{};
  if (overrides.model && config.domain->needs_model()) {
    if (!config.model) config.model = ModelConfig{};
    config.model->path = *overrides.model;
  }
  return config;
}

int checked_threads(int threads) {
  if (threads < 0 || threads > kMaxThreads)
    throw common::JsonError("threads (overridden): expected an integer in [0, " +
                            std::to_string(kMaxThreads) + "], got " + std::to_string(threads));
  return threads;
}

}  // namespace

RunSummary run_experiment(const ExperimentConfig& config, const RunOverrides& overrides,
                          const std::atomic<bool>& stop, const ProgressCallback& progress,
                          const ModelLoader& load_model) {
  const ExperimentConfig effective = with_overrides(config, overrides);
  const int threads = checked_threads(overrides.threads.value_or(effective.threads));
  const std::unique_ptr<llm::LanguageModel> model =
      model_for(effective, overrides.model, load_model);
  auto scheduler = make_scheduler(effective, threads, model.get());
  std::unique_ptr<store::RunStore> store;
  if (effective.store.path) {
    store::RunStoreOptions options;
    options.keep_candidates = effective.store.keep;
    options.commit_interval_seconds = effective.store.commit_seconds;
    store = store::RunStore::create(*effective.store.path, effective.json, effective.seed, options);
  }
  RunSummary summary =
      drive(*scheduler, store.get(), effective.iterations, effective.name, stop, progress);
  summary.store = effective.store.path;
  return summary;
}

RunSummary resume_experiment(const std::filesystem::path& path,
                             const std::optional<ExperimentConfig>& config,
                             std::optional<int> threads, const std::atomic<bool>& stop,
                             const ProgressCallback& progress, const ModelLoader& load_model,
                             const std::optional<std::string>& model_path) {
  auto store = store::RunStore::open_for_resume(path);
  const store::RunInfo info = store->info();
  const ExperimentConfig own = parse_experiment_config(info.config, path.string() + " (config)");
  if (config && comparable(config->json) != comparable(own.json))
    throw std::runtime_error(path.string() +
                             ": the given config differs from the run's own config; resume "
                             "without a config, or pass the one the run started with");
  store->set_commit_interval(own.store.commit_seconds);
  // A failed run may be tried again (the cause may have been the machine's); it runs again.
  if (info.status == store::RunStatus::kFailed) store->set_status(store::RunStatus::kRunning);
  const std::unique_ptr<llm::LanguageModel> model = model_for(own, model_path, load_model);
  auto scheduler = make_scheduler(own, checked_threads(threads.value_or(own.threads)), model.get());
  if (info.last_iteration) {
    try {
      scheduler->restore(store->added_candidates_by_iteration(), store->last_rng_state(),
                         store->last_engine_state());
    } catch (const nlohmann::json::exception& e) {
      // The engine wrote this state itself; a library message here means a damaged file.
      throw std::runtime_error(path.string() + ": the stored engine state is damaged (" +
                               common::json_exception_text(e) + ")");
    }
  }
  RunSummary summary = drive(*scheduler, store.get(), own.iterations, own.name, stop, progress);
  summary.store = path;
  return summary;
}

}  // namespace qdgen::engine
