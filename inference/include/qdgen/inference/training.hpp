#pragma once
// Training a Llama-family model in-process (libtorch's autograd inside, none of it here): a
// base model from scratch, or one LoRA adapter on a frozen base. The qdgen binary reaches
// these through the embedded-model module (the kTraining* symbols below); tests and the
// benchmark call train_base / train_lora directly.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qdgen/inference/default_model.hpp"

namespace qdgen::inference {

// What every training run shares: the corpus, the schedule, the optimiser and the bookkeeping.
struct TrainingOptions {
  std::vector<std::filesystem::path> data{};  // fortune files, plain text, JSONL {"text"}; folders
  std::filesystem::path out{};                // the folder written at the end (must not exist)
  bool overwrite = false;                     // replace `out` (and a stale checkpoint) if present
  // Where checkpoints go; empty: `out` with ".checkpoint" appended.
  std::filesystem::path checkpoint_dir{};
  bool resume = false;  // continue from checkpoint_dir's checkpoint

  std::int64_t steps = 1000;
  std::int64_t batch = 8;    // sequences per step
  std::int64_t context = 0;  // tokens per sequence; 0: min(256, max_position_embeddings)
  double learning_rate = 1e-3;
  double min_learning_rate_ratio = 0.1;  // cosine decay ends at learning_rate * this
  std::int64_t warmup_steps = -1;        // linear warm-up; -1: steps / 20
  double weight_decay = 0.1;             // decoupled (AdamW); matrices of linear layers only
  double beta1 = 0.9;
  double beta2 = 0.95;
  double adam_epsilon = 1e-8;
  double gradient_clip = 1.0;  // global L2 norm; 0: no clipping
  std::uint64_t seed = 0;      // initialisation and batch order
  // Of the documents, held out for evaluation: chosen by a hash of each document's text
  // (is_held_out in corpus.hpp), so a document is held out of every corpus that holds it.
  double heldout_fraction = 0.05;
  std::int64_t eval_every =
      100;  // held-out loss every this many steps (and at the end); 0: end only
  std::int64_t eval_windows = 16;     // held-out sequences evaluated each time (the first ones)
  std::int64_t checkpoint_every = 0;  // steps between checkpoints; 0: only at the end / on stop
  int threads = 0;                    // CPU threads; 0: all cores
  // Polled after every step; when it turns true the run saves a checkpoint and returns with
  // `interrupted` set (the command sets it from SIGINT / SIGTERM).
  const std::atomic<bool>* stop = nullptr;
};

struct BaseTrainingOptions {
  std::filesystem::path model_config;  // a Hugging Face config.json (a Llama-family decoder)
  std::filesystem::path tokenizer;     // tokenizer.json; its vocabulary must fit the config
  double init_std = 0.02;              // normal initialisation of embeddings and linear layers
  TrainingOptions training;
};

struct LoraTrainingOptions {
  std::filesystem::path model;      // the base: a Hugging Face folder (kept frozen)
  std::filesystem::path tokenizer;  // empty: <model>/tokenizer.json
  std::int64_t r = 8;
  double alpha = 16;
  // Projection names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj), or
  // the single entry "all-linear" for all seven.
  std::vector<std::string> targets = {"q_proj", "v_proj"};
  bool rslora = false;  // scale alpha / sqrt(r) instead of alpha / r
  // What adapter_config.json records as base_model_name_or_path; empty: the absolute path of
  // `model` (a build that trains against a staged copy names where the base will live).
  std::string base_model_name;
  // An adapter's few parameters take a higher rate and no weight decay (PEFT's usual).
  TrainingOptions training{.steps = 300, .learning_rate = 2e-3, .weight_decay = 0.0};
};

struct TrainingProgress {
  enum class Event { kStep, kEvaluation, kCheckpoint };
  Event event = Event::kStep;
  std::int64_t step = 0;  // steps done
  std::int64_t steps = 0;
  double loss = 0;                     // the last step's training loss (nats per token)
  std::optional<double> heldout_loss;  // the latest held-out evaluation
  double learning_rate = 0;
  double tokens_per_second = 0;  // training tokens per second of this process
  double seconds = 0;            // wall time of this process
  double eta_seconds = -1;       // -1 while unknown
};
using TrainingProgressFn = std::function<void(const TrainingProgress&)>;

struct TrainingResult {
  bool interrupted = false;  // stopped by `stop`; the checkpoint holds the run
  std::int64_t step = 0;
  std::int64_t steps = 0;
  double loss = 0;                             // mean training loss over the last (up to) 20 steps
  std::optional<double> heldout_loss;          // at the end
  std::optional<double> initial_heldout_loss;  // before the first step (eval_every > 0)
  std::int64_t tokens = 0;                     // training tokens processed by this process
  double seconds = 0;                          // wall time of this process
  double tokens_per_second = 0;                // training steps only (evaluation excluded)
  std::int64_t parameters = 0;                 // of the whole model
  std::int64_t trainable_parameters = 0;
  std::int64_t train_documents = 0, heldout_documents = 0;
  std::int64_t train_tokens = 0, heldout_tokens = 0;  // corpus tokens on each side of the split
  int threads = 0;
  std::filesystem::path out;         // written when not interrupted
  std::filesystem::path checkpoint;  // the latest checkpoint
};

// Both throw std::runtime_error with one line naming the file, option or value at fault.
TrainingResult train_base(const BaseTrainingOptions& options, const TrainingProgressFn& progress);
TrainingResult train_lora(const LoraTrainingOptions& options, const TrainingProgressFn& progress);

// The default model (default_model.hpp): the tokenizer on the corpus's training documents,
// the base on the whole corpus, one LoRA expert per category, and the table of every
// expert's (and the base's) mean held-out log-likelihood per token on every category, built
// in a staging folder beside plan.folder and renamed into it with its manifest. Holds the
// cache's lock throughout; without `force`, a model that is already whole (built by another
// process meanwhile) is kept. Returns the manifest.
struct DefaultModelBuild {
  DefaultModelPlan plan;
  bool force = false;
  int threads = 0;  // 0: all cores
};
// `stage` is "tokenizer", "base", "expert NAME" or "evaluation"; `index` of `count` experts.
using DefaultModelProgressFn = std::function<void(const std::string& stage, int index, int count,
                                                  const TrainingProgress& training)>;
nlohmann::json build_default_model(const DefaultModelBuild& build,
                                   const DefaultModelProgressFn& progress);

// The module's entry points (C linkage, looked up by name) and the interface version both
// sides must agree on; `result` receives the run's result, exceptions pass through.
inline constexpr int kTrainingInterface = 2;
using TrainingInterfaceFn = int (*)();
using TrainBaseFn = void (*)(const BaseTrainingOptions& options, const TrainingProgressFn& progress,
                             TrainingResult& result);
using TrainLoraFn = void (*)(const LoraTrainingOptions& options, const TrainingProgressFn& progress,
                             TrainingResult& result);
using BuildDefaultModelFn = void (*)(const DefaultModelBuild& build,
                                     const DefaultModelProgressFn& progress,
                                     nlohmann::json& manifest);
inline constexpr const char* kTrainingInterfaceSymbol = "qdgen_training_interface";
inline constexpr const char* kBuildDefaultModelSymbol = "qdgen_build_default_model";
inline constexpr const char* kTrainBaseSymbol = "qdgen_train_base";
inline constexpr const char* kTrainLoraSymbol = "qdgen_train_lora";

}  // namespace qdgen::inference
