// qdgen run: runs or resumes an experiment (engine/, experiments/README.md).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "number_checks.hpp"
#include "qdgen/engine/config.hpp"
#include "qdgen/engine/run.hpp"
#include "qdgen/store/run_reader.hpp"
#include "run_model.hpp"

namespace qdgen::cli {

namespace {

// A signal asks the run to stop after the iteration in flight, whose group is then committed;
// the process exits 128 + the signal's number, as a shell reports a process killed by it, so
// scripts can tell a stopped run from a finished one. SIGHUP (a closed terminal) is a stop
// too, rather than the default instant death that lost the pending group.
std::atomic<bool> g_stop{false};
std::atomic<int> g_stop_signal{0};
extern "C" void request_stop(int signal_number) {
  g_stop_signal.store(signal_number);
  g_stop.store(true);
}

const char* signal_name(int signal_number) {
  switch (signal_number) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
  }
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%02ld:%02ld", s / 60, s % 60);
  return text;
}

// A text domain's Vendi scores (q = 1) and its model calls' pace, for the progress line.
std::string domain_text(const nlohmann::json& metrics) {
  if (!metrics.is_object()) return "";
  std::string out;
  char part[96];
  for (const auto& [key, name] :
       {std::pair{"vendi_ngram_q1", "vendi-ngram"}, {"vendi_embedding_q1", "vendi-embed"}})
    if (metrics.contains(key) && metrics[key].is_number()) {
      std::snprintf(part, sizeof part, "  %s %.4g", name, metrics[key].get<double>());
      out += part;
    }
  if (metrics.contains("text") && metrics["text"].is_object()) {
    const auto& t = metrics["text"];
    std::snprintf(part, sizeof part, "  gen %.3gs (%.3g/s) judge %.3gs (%.3g/s)",
                  t.value("generate_s", 0.0), t.value("children_per_s", 0.0),
                  t.value("judge_s", 0.0), t.value("judged_per_s", 0.0));
    out += part;
  }
  return out;
}

class ProgressReporter {
 public:
  explicit ProgressReporter(std::int64_t log_every)
      : terminal_(isatty(STDERR_FILENO) == 1), log_every_(log_every) {}

  void operator()(const engine::RunProgress& p) {
    const std::int64_t every =
        log_every_ > 0 ? log_every_ : std::max<std::int64_t>(1, p.total / 20);
    const double rate = p.seconds > 0 ? double(p.iteration - first_iteration(p)) / p.seconds : 0;
    const double eta = rate > 0 ? double(p.total - p.iteration) / rate : -1;
    char line[256];
    std::snprintf(
        line, sizeof line, "iter %lld/%lld  QD %.6g  coverage %.2f%%  %.3g evals/s  ETA %s",
        static_cast<long long>(p.iteration), static_cast<long long>(p.total), p.stats.qd_score,
        100.0 * p.stats.coverage, p.evaluations_per_s, format_duration(eta).c_str());
    std::string extra = domain_text(p.domain_metrics);
    if (terminal_) {
      const int width = 24;
      const int filled = static_cast<int>(double(width) * double(p.iteration) / double(p.total));
      std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
      std::cerr << "\r\033[K" << bar << line << extra << std::flush;
      if (p.iteration >= p.total) std::cerr << "\n";
    } else if (p.iteration % every == 0 || p.iteration >= p.total) {
      std::cerr << line << extra << "\n";
    }
  }
  void finish() const {
    if (terminal_) std::cerr << "\n";
  }

 private:
  std::int64_t first_iteration(const engine::RunProgress& p) {
    if (first_ < 0) first_ = p.iteration - 1;
    return first_;
  }
  bool terminal_;
  std::int64_t log_every_;
  std::int64_t first_ = -1;
};

void print_summary(const engine::RunSummary& s, const std::string& format) {
  const auto& p = s.progress;
  if (format == "json") {
    nlohmann::json j = {{"name", s.name},
                        {"finished", s.finished},
                        {"iterations", p.iteration},
                        {"total_iterations", p.total},
                        {"evaluations", p.evaluations},
                        {"seconds", p.seconds},
                        {"evaluations_per_s", p.evaluations_per_s},
                        {"threads", s.threads},
                        {"qd_score", p.stats.qd_score},
                        {"norm_qd_score", p.stats.norm_qd_score},
                        {"coverage", p.stats.coverage},
                        {"num_elites", p.stats.num_elites},
                        {"num_cells", p.stats.num_cells},
                        {"obj_max", p.stats.obj_max},
                        {"obj_mean", p.stats.obj_mean},
                        {"store", s.store ? nlohmann::json(s.store->string()) : nlohmann::json()}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  auto row = [](const std::string& key, const std::string& value) {
    std::cout << "  " << key << std::string(key.size() < 18 ? 18 - key.size() : 1, ' ') << value
              << "\n";
  };
  auto num = [](double v) {
    std::ostringstream out;
    out.precision(8);
    out << v;
    return out.str();
  };
  std::string state = " finished";
  if (!s.finished) {
    const int signal_number = g_stop_signal.load();
    state = " stopped";
    if (signal_number != 0) state += std::string(" by ") + signal_name(signal_number);
    state += s.store ? " (resume with qdgen run --resume " + s.store->string() + ")"
                     : " (in memory: nothing to resume)";
  }
  std::cout << (s.name.empty() ? std::string("run") : s.name) << state << "\n";
  row("iterations", std::to_string(p.iteration) + " / " + std::to_string(p.total));
  row("evaluations", std::to_string(p.evaluations));
  row("QD score", num(p.stats.qd_score));
  row("norm. QD score", num(p.stats.norm_qd_score));
  row("coverage", num(100.0 * p.stats.coverage) + " %");
  row("elites", std::to_string(p.stats.num_elites) + " / " + std::to_string(p.stats.num_cells));
  row("best objective", num(p.stats.obj_max));
  row("mean objective", num(p.stats.obj_mean));
  row("wall time", num(p.seconds) + " s (" + std::to_string(s.threads) + " threads)");
  row("evaluations/s", num(p.evaluations_per_s));
  if (s.store) row("store", s.store->string());
}

}  // namespace

void add_run_command(CLI::App& app) {
  struct Options {
    std::string config;
    std::string out;
    std::string resume;
    std::int64_t iterations = 0;
    std::uint64_t seed = 0;
    int threads = 0;
    std::string format = "table";
    bool in_memory = false;
    std::string model;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "run", "Run an experiment config (experiments/*.json), or resume a stored run.");
  cmd->add_option("config", options->config, "experiment config (JSON)");
  auto* out = cmd->add_option("--out", options->out, "run store to create (SQLite)")
                  ->check(non_empty_check());
  auto* resume = cmd->add_option("--resume", options->resume, "resume this run store");
  // The config's ranges (experiments/README.md), so a flag never runs what a config refuses.
  auto* iterations = cmd->add_option("--iterations", options->iterations, "iterations to run")
                         ->check(CLI::Range(std::int64_t{1}, engine::kMaxIterations));
  auto* seed = cmd->add_option("--seed", options->seed, "random seed")->check(unsigned_64_check());
  auto* threads = cmd->add_option("--threads", options->threads, "evaluation threads (0: all)")
                      ->check(CLI::Range(0, static_cast<int>(engine::kMaxThreads)));
  cmd->add_option("--format", options->format, "summary format")
      ->check(CLI::IsMember({"table", "json"}));
  auto* in_memory = cmd->add_flag("--in-memory", options->in_memory,
                                  "keep the run in memory only (no run store)");
  auto* model = cmd->add_option("--model", options->model,
                                "model folder for a text domain, in place of the config's");
  resume->excludes(out);
  in_memory->excludes(out);
  in_memory->excludes(resume);

  cmd->callback([options, iterations, seed, threads, resume, model] {
    g_stop.store(false);
    g_stop_signal.store(0);
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    std::signal(SIGHUP, request_stop);

    engine::RunOverrides overrides;
    if (!options->out.empty()) overrides.out = options->out;
    if (*iterations) overrides.iterations = options->iterations;
    if (*seed) overrides.seed = options->seed;
    if (*threads) overrides.threads = options->threads;
    overrides.in_memory = options->in_memory;
    if (*model) overrides.model = options->model;

    std::optional<engine::ExperimentConfig> config;
    if (!options->config.empty()) config = engine::load_experiment_config(options->config);
    engine::RunSummary summary;
    if (*resume) {
      if (*iterations || *seed)
        throw std::runtime_error(
            "--resume continues a run with its own iterations and seed; drop --iterations/--seed");
      // Without a config, the progress lines follow the run's own metrics.log_every. A store
      // that cannot be read gets its message from the resume itself, so failures here fall
      // back to the default cadence.
      std::int64_t log_every = config ? config->log_every : 0;
      if (!config) {
        try {
          log_every = engine::parse_experiment_config(
                          store::RunReader(options->resume).info().config, options->resume)
                          .log_every;
        } catch (const std::exception&) {
        }
      }
      ProgressReporter reporter(log_every);
      summary = engine::resume_experiment(options->resume, config, overrides.threads, g_stop,
                                          std::ref(reporter), run_model_loader(), overrides.model);
      reporter.finish();
    } else {
      if (!config) throw std::runtime_error("give an experiment config, or --resume RUN.sqlite");
      ProgressReporter reporter(config->log_every);
      summary = engine::run_experiment(*config, overrides, g_stop, std::ref(reporter),
                                       run_model_loader());
      reporter.finish();
    }
    print_summary(summary, options->format);
    const int signal_number = g_stop_signal.load();
    if (!summary.finished && signal_number != 0) {
      std::cout.flush();
      throw CLI::RuntimeError(128 + signal_number);  // exits with it, printing nothing more
    }
  });
}

}  // namespace qdgen::cli
