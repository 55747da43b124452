#pragma once
// Random LoRA adapters for a model config, deterministic in a seed, for tests of the
// adapter format, merging and per-row mixtures.

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "qdgen/inference/lora_adapter.hpp"

namespace qdgen::testing {

// Every layer gets a module on each of `targets`; A and B are uniform in +-1/sqrt(fan_in)
// (B non-zero, unlike a fresh PEFT adapter, so that the adapter changes the outputs).
inline inference::LoraAdapter random_lora_adapter(const inference::LlamaConfig& config,
                                                  const std::string& name,
                                                  const std::vector<inference::LoraTarget>& targets,
                                                  std::int64_t rank, double alpha,
                                                  std::uint64_t seed, bool rslora = false) {
  std::mt19937_64 generator(seed);
  inference::LoraAdapter adapter;
  adapter.name = name;
  adapter.r = rank;
  adapter.lora_alpha = alpha;
  adapter.use_rslora = rslora;
  const auto fill = [&](std::vector<float>& values, std::size_t n, std::int64_t fan_in) {
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
    values.resize(n);
    for (float& v : values) v = uniform(generator) * bound;
  };
  for (std::int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    for (const inference::LoraTarget target : targets) {
      inference::LoraModule m;
      m.layer = layer;
      m.target = target;
      m.rank = rank;
      m.alpha = alpha;
      m.scale = alpha / (rslora ? std::sqrt(static_cast<double>(rank)) : static_cast<double>(rank));
      const std::int64_t in = inference::lora_target_in_features(config, target);
      const std::int64_t out = inference::lora_target_out_features(config, target);
      fill(m.a, static_cast<std::size_t>(rank * in), in);
      fill(m.b, static_cast<std::size_t>(out * rank), rank);
      adapter.modules.push_back(std::move(m));
    }
  }
  return adapter;
}

inline const std::vector<inference::LoraTarget>& all_lora_targets() {
  static const std::vector<inference::LoraTarget> targets = {
      inference::LoraTarget::kQ,   inference::LoraTarget::kK,    inference::LoraTarget::kV,
      inference::LoraTarget::kO,   inference::LoraTarget::kGate, inference::LoraTarget::kUp,
      inference::LoraTarget::kDown};
  return targets;
}

}  // namespace qdgen::testing
