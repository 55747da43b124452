// train_lora: one PEFT LoRA adapter on a frozen Hugging Face base.

#include <stdexcept>

#include "llama_trainable.hpp"
#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/training.hpp"
#include "training_run.hpp"
#include "training_runtime.hpp"
#include "training_setup.hpp"

namespace qdgen::inference {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace training;

namespace {

constexpr std::array<LoraTarget, kLoraTargets> kAllTargets = {
    LoraTarget::kQ,    LoraTarget::kK,  LoraTarget::kV,   LoraTarget::kO,
    LoraTarget::kGate, LoraTarget::kUp, LoraTarget::kDown};

std::vector<LoraTarget> parse_targets(const std::vector<std::string>& names) {
  if (names.size() == 1 && names[0] == "all-linear") {
    return {kAllTargets.begin(), kAllTargets.end()};
  }
  if (names.empty()) throw std::runtime_error("--targets: give at least one projection");
  std::vector<LoraTarget> targets;
  for (const std::string& name : names) {
    bool known = false;
    for (LoraTarget target : kAllTargets) {
      if (name == lora_target_name(target)) {
        if (std::find(targets.begin(), targets.end(), target) == targets.end()) {
          targets.push_back(target);
        }
        known = true;
      }
    }
    if (!known) {
      throw std::runtime_error("--targets " + name +
                               ": expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                               "down_proj, or all-linear alone");
    }
  }
  std::sort(targets.begin(), targets.end());
  return targets;
}

}  // namespace

TrainingResult train_lora(const LoraTrainingOptions& options, const TrainingProgressFn& progress) {
  check_output_folders(options.training);
  if (options.model.empty()) throw std::runtime_error("--model: give the base model's folder");
  const HfModelFolder base = open_hf_folder(options.model);
  const LlamaConfig& config = base.config;
  const TrainingOptions o = resolve_options(options.training, config);
  LoraSettings settings{options.r, options.alpha, options.rslora, parse_targets(options.targets)};
  if (settings.r < 1)
    throw std::runtime_error("--r " + std::to_string(settings.r) + ": expected >= 1");
  if (!(settings.alpha > 0)) {
    throw std::runtime_error("--alpha " + json(settings.alpha).dump() + ": expected > 0");
  }
  const fs::path tokenizer_path =
      options.tokenizer.empty() ? options.model / "tokenizer.json" : options.tokenizer;
  const auto tokenizer =
      load_fitting_tokenizer(tokenizer_path, config, (options.model / "config.json").string());
  const TokenId end_of_text = end_of_text_token(*tokenizer, tokenizer_path);
  const TrainingRuntime runtime(o.threads);
  const TrainingCorpus corpus = read_corpus(o, *tokenizer, end_of_text);

  LlamaTrainable model(config);
  model.load_hf(read_hf_weights(base));
  model.set_requires_grad(false);
  LoraWeights lora(config, settings, o.seed);

  TrainingJob job;
  job.options = &o;
  job.corpus = &corpus;
  job.threads = runtime.threads();
  job.trainable = lora.parameters();
  job.parameters = model.parameter_count() + lora.parameter_count();
  job.loss = [&](const at::Tensor& tokens, const at::Tensor& targets, bool sum) {
    return model.loss(tokens, targets, &lora, sum);
  };
  json target_names = json::array();
  for (LoraTarget target : settings.targets) target_names.push_back(lora_target_name(target));
  job.fingerprint = common_fingerprint(o, corpus);
  job.fingerprint["kind"] = "lora";
  job.fingerprint["base_config"] = to_json(config);
  job.fingerprint["base_model"] = fs::absolute(options.model).lexically_normal().string();
  job.fingerprint["tokenizer"] = file_identity(tokenizer_path);
  job.fingerprint["lora"] = {{"r", settings.r},
                             {"alpha", settings.alpha},
                             {"rslora", settings.rslora},
                             {"targets", target_names}};
  const std::string base_name = options.base_model_name.empty()
                                    ? fs::absolute(options.model).lexically_normal().string()
                                    : options.base_model_name;
  job.write_output = [&](const fs::path& staged) {
    write_peft_adapter(staged, lora.to_adapter(base_name));
  };
  return run_training(job, progress);
}

}  // namespace qdgen::inference
