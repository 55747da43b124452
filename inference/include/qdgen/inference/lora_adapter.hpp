#pragma once
// LoRA adapters in PEFT's format: a folder with adapter_config.json and
// adapter_model.safetensors, as `peft` saves them (save_pretrained) and loads them
// (PeftModel.from_pretrained). qdgen applies LoRA to the seven projections of each decoder
// layer; an adapter's delta for a projection is scale * B A with A [r, in] and B [out, r].
// No libtorch: merging and the model command line use it as well as the model.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "qdgen/inference/llama2c.hpp"  // OwnedTensor
#include "qdgen/inference/model_config.hpp"

namespace qdgen::inference {

// The projections of a decoder layer, by their Hugging Face module names.
enum class LoraTarget { kQ, kK, kV, kO, kGate, kUp, kDown };
inline constexpr int kLoraTargets = 7;
const char* lora_target_name(LoraTarget target);  // "q_proj", ..., "down_proj"
// "self_attn.q_proj", ..., "mlp.down_proj": the module path inside a layer.
std::string lora_target_path(LoraTarget target);
// [out, in] of the projection in a model of `config`.
std::int64_t lora_target_out_features(const LlamaConfig& config, LoraTarget target);
std::int64_t lora_target_in_features(const LlamaConfig& config, LoraTarget target);

struct LoraModule {
  std::int64_t layer = 0;
  LoraTarget target = LoraTarget::kQ;
  std::int64_t rank = 0;
  double alpha = 0;
  double scale = 0;      // alpha / rank, or alpha / sqrt(rank) with rsLoRA
  std::vector<float> a;  // [rank, in], row-major
  std::vector<float> b;  // [out, rank], row-major
};

struct LoraAdapter {
  std::string name;              // how requests refer to it
  std::filesystem::path folder;  // where it was read from (empty when made in code)
  std::int64_t r = 0;            // the config's default rank
  double lora_alpha = 0;         // the config's default alpha
  bool use_rslora = false;
  std::vector<LoraModule> modules;      // sorted by (layer, target)
  std::string base_model_name_or_path;  // kept from the config, written back
};

// Reads a PEFT LoRA adapter folder and checks it against the base model: peft_type "LORA";
// r, lora_alpha, use_rslora, rank_pattern / alpha_pattern, target_modules (a list of module
// names, a regular expression, or "all-linear"), layers_to_transform, bias "none". Unknown
// keys are ignored; lora_dropout is a training setting and is ignored. Refused, with one line
// naming the folder and the key or tensor: DoRA (use_dora), embedding or lm_head LoRA,
// modules_to_save, a non-LORA peft_type, a target module the model lacks, a missing tensor,
// a tensor of the wrong shape (both shapes named), a tensor for a module the config does not
// target, and an adapter made for another base (its shapes differ from this base's).
LoraAdapter read_peft_adapter(const std::filesystem::path& folder, const LlamaConfig& base,
                              const std::string& name);

// Writes `adapter` as PEFT does: adapter_config.json (peft_type LORA, r, lora_alpha,
// target_modules, rank_pattern / alpha_pattern for modules whose rank or alpha differ from
// the defaults, use_rslora, ...) and adapter_model.safetensors with PEFT's tensor names
// (base_model.model.model.layers.L.self_attn.q_proj.lora_A.weight). Each file is written
// atomically.
void write_peft_adapter(const std::filesystem::path& folder, const LoraAdapter& adapter);

// The weights W + sum_i weight_i * scale * B A for every module of every adapter: `tensors`
// are the base model's (Hugging Face names and layout, e.g. from a folder), changed in place.
void merge_lora_adapters(const LlamaConfig& config, std::vector<OwnedTensor>& tensors,
                         const std::vector<const LoraAdapter*>& adapters,
                         const std::vector<double>& weights);

}  // namespace qdgen::inference
