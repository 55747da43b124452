#pragma once
// What the LoRA mixture tests share: random model shapes (grouped-query attention, biases, a
// tied head), three adapters of different ranks and targets, merged references, requests.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/model.hpp"
#include "random_lora.hpp"
#include "random_weights.hpp"

namespace qdgen::inference::lora_test {

using testing::all_lora_targets;
using testing::random_lora_adapter;

struct Shape {
  const char* name;
  LlamaConfig config;
};

inline void PrintTo(const Shape& shape, std::ostream* out) {
  *out << shape.name;
}

inline std::vector<Shape> shapes() {
  std::vector<Shape> all;
  all.push_back({"grouped_query", testing::small_llama_config()});
  LlamaConfig biased = testing::small_llama_config();
  biased.attention_bias = biased.qkv_bias = biased.mlp_bias = true;
  all.push_back({"biases", biased});
  LlamaConfig tied = testing::small_llama_config();
  tied.tie_word_embeddings = true;
  tied.num_key_value_heads = 1;
  all.push_back({"tied_head_one_kv_head", tied});
  return all;
}

inline ModelOptions cpu_options(std::vector<LoraAdapter> adapters = {}, bool aten = false) {
  ModelOptions options;
  options.device = "cpu";
  options.threads = 2;
  options.aten_forward = aten;
  options.adapters = std::move(adapters);
  return options;
}

inline LoraMixture mixture(std::vector<std::pair<std::string, double>> weights) {
  return LoraMixture{std::move(weights)};
}

// Three adapters of different ranks and target sets.
inline std::vector<LoraAdapter> three_adapters(const LlamaConfig& config) {
  return {random_lora_adapter(config, "all", all_lora_targets(), 4, 8.0, 11),
          random_lora_adapter(config, "attention", {LoraTarget::kQ, LoraTarget::kV, LoraTarget::kO},
                              2, 4.0, 12),
          random_lora_adapter(config, "mlp", {LoraTarget::kGate, LoraTarget::kDown}, 8, 16.0, 13,
                              /*rslora=*/true)};
}

inline std::vector<OwnedTensor> merged(const LlamaConfig& config, std::vector<OwnedTensor> tensors,
                                       const std::vector<const LoraAdapter*>& adapters,
                                       const std::vector<double>& weights) {
  merge_lora_adapters(config, tensors, adapters, weights);
  return tensors;
}

inline float max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float most = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    most = std::max(most, std::fabs(a[i] - b[i]));
  }
  return most;
}

inline std::vector<std::int32_t> ids(const LlamaConfig& config, std::size_t count,
                                     std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::int32_t> out(count);
  for (auto& id : out) id = static_cast<std::int32_t>(random() % config.vocab_size);
  return out;
}

inline TokenRequest greedy(std::vector<std::int32_t> prompt, LoraMixture lora,
                           std::int64_t tokens = 8) {
  TokenRequest request;
  request.prompt = std::move(prompt);
  request.max_tokens = tokens;
  request.sampling.temperature = 0;
  request.stop_at_eos = false;
  request.lora = std::move(lora);
  return request;
}

inline std::string message_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace qdgen::inference::lora_test
