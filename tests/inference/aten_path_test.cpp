// Two backends of the same forward pass: qdgen's CPU kernels (what the CPU runs) and the ATen ops
// that CUDA runs, put on the CPU by ModelOptions::aten_forward. No GPU is needed to check that
// the CUDA path computes the same model: same logits, same greedy tokens, same scores.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "qdgen/inference/model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

std::vector<std::int32_t> random_ids(std::size_t count, std::uint64_t seed, std::int64_t vocab) {
  std::mt19937_64 random(seed);
  std::vector<std::int32_t> ids(count);
  for (auto& id : ids) id = static_cast<std::int32_t>(random() % vocab);
  return ids;
}

std::unique_ptr<LlamaModel> model_on_aten_ops(const LlamaConfig& config) {
  ModelOptions options{"cpu", 1};
  options.aten_forward = true;
  return LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7), options);
}

class AtenPath : public ::testing::TestWithParam<bool> {
 protected:
  LlamaConfig config() const {
    LlamaConfig c = testing::small_llama_config();
    if (GetParam()) {  // Qwen2's biases and a Llama 3 rope on grouped-query attention
      c.qkv_bias = true;
      c.rope_scaling = RopeScalingLlama3{4.0, 1.0, 4.0, 16};
    }
    return c;
  }
};

TEST_P(AtenPath, LogitsGreedyTokensAndScoresMatchTheCpuKernels) {
  const LlamaConfig c = config();
  const auto kernels = LlamaModel::from_tensors(c, testing::random_llama_weights(c, 7), {"cpu", 1});
  const auto aten = model_on_aten_ops(c);

  const auto sequence = random_ids(20, 1, c.vocab_size);
  const auto a = kernels->forward_logits(sequence);
  const auto b = aten->forward_logits(sequence);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  EXPECT_LT(worst, 1e-4);
  // Different operations round differently: equal bits would mean both ran the same path.
  EXPECT_GT(worst, 0.0);

  // Rows of different lengths: padded joins, per-row positions, rows leaving the batch.
  std::vector<TokenRequest> requests;
  for (int i = 0; i < 4; ++i) {
    TokenRequest r;
    r.prompt = random_ids(2 + 3 * i, 10 + i, c.vocab_size);
    r.max_tokens = 4 + 3 * i;
    r.sampling.temperature = 0;
    requests.push_back(r);
  }
  GenerationOptions options;
  options.max_batch = 3;
  const auto from_kernels = kernels->generate(requests, options);
  const auto from_aten = aten->generate(requests, options);
  for (std::size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(from_kernels[i].tokens, from_aten[i].tokens) << "request " << i;

  const auto prompt = random_ids(9, 30, c.vocab_size);
  const std::vector<std::vector<std::int32_t>> continuations = {random_ids(1, 31, c.vocab_size),
                                                                random_ids(5, 32, c.vocab_size)};
  const auto scores_a = kernels->score(prompt, continuations);
  const auto scores_b = aten->score(prompt, continuations);
  for (std::size_t i = 0; i < continuations.size(); ++i)
    EXPECT_NEAR(scores_a[i], scores_b[i], 1e-4 * std::max(1.0, std::abs(scores_a[i])));
}

INSTANTIATE_TEST_SUITE_P(Configs, AtenPath, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& variant) {
                           return variant.param ? std::string("qwen2_bias_llama3_rope")
                                                : std::string("llama");
                         });

}  // namespace
}  // namespace qdgen::inference
