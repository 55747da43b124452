#pragma once
// What `qdgen train base` and `qdgen train lora` share: the corpus, schedule and bookkeeping
// flags, the progress bar, Ctrl-C handling, and the call into the embedded-model module
// (which links libtorch; this binary does not).

#include <CLI/CLI.hpp>
#include <string>

#include "qdgen/inference/training.hpp"

namespace qdgen::cli {

// The exit status of a run stopped by SIGINT / SIGTERM after saving its checkpoint
// (EX_TEMPFAIL: try again, i.e. rerun with --resume).
inline constexpr int kTrainingStoppedStatus = 75;

struct TrainingFlags {
  std::vector<std::string> data;
  std::string out, checkpoint_dir, format = "text";
  inference::TrainingOptions options;
};

// Adds the flags, with flags.options' values as the defaults --help shows.
void add_training_flags(CLI::App* command, TrainingFlags& flags);

// Copies the flags into `options` (paths, and the stop flag of the signal handlers).
inference::TrainingOptions training_options(const TrainingFlags& flags);

// Runs `train` (which calls the module) with SIGINT / SIGTERM turned into a stop request and a
// progress bar on stderr; prints the summary on stdout. A stopped run throws
// CLI::RuntimeError(kTrainingStoppedStatus) after saying how to resume.
void run_training_command(
    const std::string& command, const TrainingFlags& flags,
    const std::function<inference::TrainingResult(const inference::TrainingOptions&,
                                                  const inference::TrainingProgressFn&)>& train);

// The module's entry points, checked against this build's interface version.
inference::TrainBaseFn train_base_entry();
inference::TrainLoraFn train_lora_entry();

}  // namespace qdgen::cli
