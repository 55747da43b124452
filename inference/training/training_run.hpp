#pragma once
// The loop both kinds of training share: batches from the corpus, AdamW steps on the
// trainable tensors, held-out evaluation, checkpoints, stop requests, and the output folder
// written atomically at the end.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llama_trainable.hpp"
#include "qdgen/inference/training.hpp"
#include "training_corpus.hpp"

namespace qdgen::inference::training {

struct TrainingJob {
  const TrainingOptions* options = nullptr;  // with context and warm-up resolved
  const TrainingCorpus* corpus = nullptr;
  std::vector<TrainableParameter> trainable;
  std::int64_t parameters = 0;  // of the whole model
  int threads = 1;              // what the run's TrainingRuntime set
  // The loss of tokens [B, T] against targets [B, T] (mean, or sum with `sum`).
  std::function<at::Tensor(const at::Tensor&, const at::Tensor&, bool sum)> loss;
  // Everything that decides the weights; a resumed run must match it key by key.
  nlohmann::json fingerprint;
  std::function<void(const std::filesystem::path& staged)> write_output;
};

// Checks made before any data is read: the output folder and the checkpoint folder.
void check_output_folders(const TrainingOptions& options);
std::filesystem::path checkpoint_folder(const TrainingOptions& options);

TrainingResult run_training(const TrainingJob& job, const TrainingProgressFn& progress);

}  // namespace qdgen::inference::training
