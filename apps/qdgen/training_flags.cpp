#include "training_flags.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "model_flags.hpp"
#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
// The first signal asks the run to stop after its step and save a checkpoint; a second one
// ends the process at once, as if no handler were installed.
extern "C" void request_training_stop(int signal) {
  if (g_stop.exchange(true)) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  g_signal.store(signal);
}

std::string duration_text(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%02ld:%02ld", s / 60, s % 60);
  }
  return text;
}

// A bar redrawn in place on a terminal; otherwise a plain line every 5 % of the steps, at
// each evaluation and at each checkpoint.
class TrainingProgressBar {
 public:
  TrainingProgressBar() : terminal_(isatty(STDERR_FILENO) == 1) {}

  void operator()(const inference::TrainingProgress& p) {
    using Event = inference::TrainingProgress::Event;
    char line[256];
    const std::string heldout = p.heldout_loss ? format("%.4f", *p.heldout_loss) : "-";
    const std::string loss = p.step > 0 ? format("%.4f", p.loss) : "-";
    std::snprintf(line, sizeof line, "step %lld/%lld  loss %s  held-out %s  %.0f tok/s  ETA %s",
                  static_cast<long long>(p.step), static_cast<long long>(p.steps), loss.c_str(),
                  heldout.c_str(), p.tokens_per_second, duration_text(p.eta_seconds).c_str());
    if (terminal_) {
      const int width = 24;
      const int filled = static_cast<int>(width * static_cast<double>(p.step) /
                                          static_cast<double>(std::max<std::int64_t>(1, p.steps)));
      std::cerr << "\r\033[K[" << std::string(filled, '#') << std::string(width - filled, '.')
                << "] " << line << std::flush;
      if (p.event == Event::kCheckpoint)
        std::cerr << "\r\033[Kcheckpoint saved at step " << p.step << "\n";
      drawn_ = true;
      return;
    }
    const std::int64_t every = std::max<std::int64_t>(1, p.steps / 20);
    if (p.event == Event::kCheckpoint) {
      std::cerr << "checkpoint saved at step " << p.step << "\n";
    } else if (p.event == Event::kEvaluation || p.step % every == 0 || p.step == p.steps) {
      std::cerr << line << "\n";
    }
  }
  void finish() const {
    if (terminal_ && drawn_) std::cerr << "\n";
  }

 private:
  static std::string format(const char* pattern, double value) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
  }
  bool terminal_;
  bool drawn_ = false;
};

void print_summary(const inference::TrainingResult& r, const std::string& format) {
  if (format == "json") {
    nlohmann::json j = {
        {"finished", !r.interrupted},
        {"step", r.step},
        {"steps", r.steps},
        {"loss", r.loss},
        {"heldout_loss", r.heldout_loss ? nlohmann::json(*r.heldout_loss) : nlohmann::json()},
        {"initial_heldout_loss",
         r.initial_heldout_loss ? nlohmann::json(*r.initial_heldout_loss) : nlohmann::json()},
        {"tokens", r.tokens},
        {"seconds", r.seconds},
        {"tokens_per_second", r.tokens_per_second},
        {"parameters", r.parameters},
        {"trainable_parameters", r.trainable_parameters},
        {"train_documents", r.train_documents},
        {"heldout_documents", r.heldout_documents},
        {"train_tokens", r.train_tokens},
        {"heldout_tokens", r.heldout_tokens},
        {"threads", r.threads},
        {"out", r.out.string()},
        {"checkpoint", r.checkpoint.string()}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  const auto row = [](const std::string& key, const std::string& value) {
    std::cout << "  " << key << std::string(key.size() < 22 ? 22 - key.size() : 1, ' ') << value
              << "\n";
  };
  char number[64];
  const auto fixed = [&](double value, const char* pattern) {
    std::snprintf(number, sizeof number, pattern, value);
    return std::string(number);
  };
  std::cout << (r.interrupted ? "training stopped" : "training finished") << "\n";
  row("steps", std::to_string(r.step) + " / " + std::to_string(r.steps));
  row("loss (last steps)", fixed(r.loss, "%.4f"));
  row("held-out loss",
      (r.heldout_loss ? fixed(*r.heldout_loss, "%.4f") : std::string("-")) +
          (r.initial_heldout_loss ? " (" + fixed(*r.initial_heldout_loss, "%.4f") + " at the start)"
                                  : std::string()));
  row("parameters",
      std::to_string(r.parameters) + " (" + std::to_string(r.trainable_parameters) + " trained)");
  row("corpus", std::to_string(r.train_tokens) + " training tokens in " +
                    std::to_string(r.train_documents) + " documents, " +
                    std::to_string(r.heldout_tokens) + " held out in " +
                    std::to_string(r.heldout_documents));
  row("tokens/s",
      fixed(r.tokens_per_second, "%.0f") + " (" + std::to_string(r.threads) + " threads)");
  row("wall time", fixed(r.seconds, "%.1f") + " s");
  if (!r.out.empty()) row("out", r.out.string());
  row("checkpoint", r.checkpoint.string());
}

template <typename Fn>
Fn training_entry(const char* symbol) {
  const auto module = embedded_module_path();
  const auto interface = reinterpret_cast<inference::TrainingInterfaceFn>(
      llm::embedded_module_symbol(module, inference::kTrainingInterfaceSymbol));
  if (interface() != inference::kTrainingInterface) {
    throw std::runtime_error(module.string() +
                             ": the module's training interface is of another qdgen build "
                             "(rebuild qdgen)");
  }
  return reinterpret_cast<Fn>(llm::embedded_module_symbol(module, symbol));
}

}  // namespace

void add_training_flags(CLI::App* command, TrainingFlags& flags) {
  inference::TrainingOptions& o = flags.options;
  command
      ->add_option("--data", flags.data,
                   "corpus files or folders: fortune files ('%' lines between records), plain "
                   "text (blank lines between documents), JSONL {\"text\"}")
      ->required();
  command->add_option("--out", flags.out, "output folder (must not exist)")->required();
  command->add_flag("--overwrite", o.overwrite, "replace the output folder and any old checkpoint");
  command->add_flag("--resume", o.resume, "continue from the checkpoint (same settings)");
  command->add_option("--checkpoint-dir", flags.checkpoint_dir,
                      "where checkpoints go (default: OUT.checkpoint)");
  command->add_option("--steps", o.steps, "optimiser steps")->capture_default_str();
  command->add_option("--batch", o.batch, "sequences per step")->capture_default_str();
  command
      ->add_option("--context", o.context,
                   "tokens per sequence (0: min(256, max_position_embeddings))")
      ->capture_default_str();
  command->add_option("--lr", o.learning_rate, "peak learning rate")->capture_default_str();
  command
      ->add_option("--min-lr-ratio", o.min_learning_rate_ratio,
                   "the cosine decay ends at lr times this")
      ->capture_default_str();
  command->add_option("--warmup", o.warmup_steps, "linear warm-up steps (-1: steps / 20)")
      ->capture_default_str();
  command
      ->add_option("--weight-decay", o.weight_decay,
                   "AdamW's decoupled weight decay (matrices only)")
      ->capture_default_str();
  command->add_option("--beta1", o.beta1, "AdamW beta1")->capture_default_str();
  command->add_option("--beta2", o.beta2, "AdamW beta2")->capture_default_str();
  command->add_option("--adam-epsilon", o.adam_epsilon, "AdamW epsilon")->capture_default_str();
  command->add_option("--clip", o.gradient_clip, "gradient clipping by global norm (0: none)")
      ->capture_default_str();
  command->add_option("--seed", o.seed, "initialisation, held-out split and batch order")
      ->capture_default_str();
  command->add_option("--heldout", o.heldout_fraction, "fraction of documents held out")
      ->capture_default_str();
  command->add_option("--eval-every", o.eval_every, "held-out loss every N steps (0: at the end)")
      ->capture_default_str();
  command->add_option("--eval-windows", o.eval_windows, "held-out sequences per evaluation")
      ->capture_default_str();
  command
      ->add_option("--checkpoint-every", o.checkpoint_every,
                   "checkpoint every N steps (0: at the end and on Ctrl-C only)")
      ->capture_default_str();
  command->add_option("--threads", o.threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  command->add_option("--format", flags.format, "summary on stdout: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

inference::TrainingOptions training_options(const TrainingFlags& flags) {
  inference::TrainingOptions o = flags.options;
  o.data.assign(flags.data.begin(), flags.data.end());
  o.out = flags.out;
  o.checkpoint_dir = flags.checkpoint_dir;
  o.stop = &g_stop;
  return o;
}

void run_training_command(
    const std::string& command, const TrainingFlags& flags,
    const std::function<inference::TrainingResult(const inference::TrainingOptions&,
                                                  const inference::TrainingProgressFn&)>& train) {
  g_stop.store(false);
  g_signal.store(0);
  const auto previous_int = std::signal(SIGINT, request_training_stop);
  const auto previous_term = std::signal(SIGTERM, request_training_stop);
  struct RestoreSignals {
    decltype(previous_int) sigint, sigterm;
    ~RestoreSignals() {
      std::signal(SIGINT, sigint);
      std::signal(SIGTERM, sigterm);
    }
  } restore{previous_int, previous_term};

  TrainingProgressBar bar;
  inference::TrainingResult result;
  try {
    result = train(training_options(flags), std::ref(bar));
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();
  print_summary(result, flags.format);
  if (result.interrupted) {
    std::cerr << command << ": stopped by " << (g_signal.load() == SIGTERM ? "SIGTERM" : "SIGINT")
              << " at step " << result.step << " of " << result.steps << "; checkpoint saved in "
              << result.checkpoint.string()
              << ". Run the same command with --resume to continue.\n";
    throw CLI::RuntimeError(kTrainingStoppedStatus);
  }
}

inference::TrainBaseFn train_base_entry() {
  return training_entry<inference::TrainBaseFn>(inference::kTrainBaseSymbol);
}

inference::TrainLoraFn train_lora_entry() {
  return training_entry<inference::TrainLoraFn>(inference::kTrainLoraSymbol);
}

}  // namespace qdgen::cli
