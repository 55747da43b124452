// Two paths computing the same thing must agree: cached decoding vs full recomputation,
// batched vs one by one, shared prefixes vs none, a seeded request alone vs in a batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "qdgen/inference/model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

struct Variant {
  const char* name;
  LlamaConfig config;
};

// The test's name in gtest's and ctest's listings (else 240 bytes of the struct, pointers
// included, so the names changed from run to run).
void PrintTo(const Variant& variant, std::ostream* out) {
  *out << variant.name;
}

std::vector<Variant> variants() {
  std::vector<Variant> all;
  LlamaConfig multi_head = testing::small_llama_config();
  multi_head.num_key_value_heads = multi_head.num_attention_heads;
  all.push_back({"multi_head", multi_head});
  all.push_back({"grouped_query", testing::small_llama_config()});
  LlamaConfig qwen2 = testing::small_llama_config();
  qwen2.architecture = "Qwen2ForCausalLM";
  qwen2.qkv_bias = true;
  qwen2.rope_theta = 1e6;
  all.push_back({"qwen2_biases", qwen2});
  LlamaConfig llama3 = testing::small_llama_config();
  llama3.num_key_value_heads = 1;
  llama3.rope_theta = 500000;
  // A short original context puts the head's frequencies on all three sides of the rescaling.
  llama3.rope_scaling = RopeScalingLlama3{4.0, 1.0, 4.0, 16};
  all.push_back({"llama3_rope_scaling", llama3});
  LlamaConfig biased = testing::small_llama_config();
  biased.attention_bias = biased.qkv_bias = biased.mlp_bias = true;
  biased.tie_word_embeddings = true;
  all.push_back({"all_biases_tied", biased});
  return all;
}

GenerationOptions batch_of(std::int64_t size) {
  GenerationOptions options;
  options.max_batch = size;
  return options;
}

class ModelConsistency : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    model_ = LlamaModel::from_tensors(
        GetParam().config, testing::random_llama_weights(GetParam().config, 7), {"cpu", 1});
  }
  std::int64_t vocab() const { return GetParam().config.vocab_size; }

  std::vector<std::int32_t> random_ids(std::size_t count, std::uint64_t seed) const {
    std::mt19937_64 random(seed);
    std::vector<std::int32_t> ids(count);
    for (auto& id : ids) id = static_cast<std::int32_t>(random() % vocab());
    return ids;
  }

  TokenRequest greedy_request(std::vector<std::int32_t> prompt, std::int64_t max_tokens) const {
    TokenRequest request;
    request.prompt = std::move(prompt);
    request.max_tokens = max_tokens;
    request.sampling.temperature = 0;
    return request;
  }

  std::unique_ptr<LlamaModel> model_;
};

TEST_P(ModelConsistency, CachedGreedyDecodingEqualsArgmaxOfFullRecomputation) {
  const auto prompt = random_ids(5, 1);
  const TokenRequest request = greedy_request(prompt, 24);
  const auto result = model_->generate(std::span(&request, 1));
  ASSERT_EQ(result[0].tokens.size(), 24u);
  auto sequence = prompt;
  for (const std::int32_t token : result[0].tokens) {
    const auto logits = model_->forward_logits(sequence);
    const float* last = logits.data() + (sequence.size() - 1) * static_cast<std::size_t>(vocab());
    EXPECT_EQ(std::max_element(last, last + vocab()) - last, token) << "after " << sequence.size();
    sequence.push_back(token);
  }
}

TEST_P(ModelConsistency, ScoreWithCachedPromptEqualsFullRecomputation) {
  const auto prompt = random_ids(7, 2);
  const std::vector<std::vector<std::int32_t>> continuations = {random_ids(1, 3), random_ids(6, 4),
                                                                random_ids(3, 5), random_ids(9, 6)};
  const auto scores = model_->score(prompt, continuations);
  ASSERT_EQ(scores.size(), continuations.size());
  for (std::size_t i = 0; i < continuations.size(); ++i) {
    auto sequence = prompt;
    sequence.insert(sequence.end(), continuations[i].begin(), continuations[i].end());
    const auto logits = model_->forward_logits(sequence);
    double expected = 0;
    for (std::size_t t = 0; t < continuations[i].size(); ++t) {
      const float* row =
          logits.data() + (prompt.size() + t - 1) * static_cast<std::size_t>(vocab());
      const double max = *std::max_element(row, row + vocab());
      double total = 0;
      for (std::int64_t v = 0; v < vocab(); ++v) total += std::exp(row[v] - max);
      expected += row[continuations[i][t]] - max - std::log(total);
    }
    EXPECT_NEAR(scores[i], expected, 1e-3 * std::max(1.0, std::abs(expected)))
        << "continuation " << i;
    EXPECT_LT(scores[i], 0.0);
  }
}

TEST_P(ModelConsistency, ContinuousBatchingEqualsOneByOne) {
  std::vector<TokenRequest> requests;
  for (std::uint64_t i = 0; i < 7; ++i) {
    requests.push_back(
        greedy_request(random_ids(2 + 3 * i, 10 + i), 3 + static_cast<std::int64_t>(5 * i % 11)));
  }
  GenerationOptions options;
  options.max_batch = 3;  // fewer slots than requests: finished ones leave, waiting ones join
  GenerationStats stats;
  const auto batched = model_->generate(requests, options, &stats);
  std::int64_t longest = 0, total = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto alone = model_->generate(std::span(&requests[i], 1));
    EXPECT_EQ(batched[i].tokens, alone[0].tokens) << "request " << i;
    EXPECT_EQ(batched[i].finish, FinishReason::kLength);
    longest = std::max(longest, requests[i].max_tokens);
    total += requests[i].max_tokens;
  }
  EXPECT_EQ(stats.generated_tokens, total);
  // Each decode step serves up to 3 sequences; with no wasted steps it takes about total / 3.
  EXPECT_LE(stats.decode_steps, total / 3 + longest);
}

TEST_P(ModelConsistency, RequestsEndingOnTheirPromptLeaveNoHoleInTheirGroup) {
  // Prompts join in one padded pass; rows that finish there (max_tokens 1) leave, and the
  // rows behind them must move down with their KV.
  std::vector<TokenRequest> requests;
  for (std::uint64_t i = 0; i < 6; ++i) {
    requests.push_back(greedy_request(random_ids(3 + 2 * i, 60 + i), i % 3 == 1 ? 1 : 6));
  }
  const auto batched = model_->generate(requests, batch_of(6));
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto alone = model_->generate(std::span(&requests[i], 1));
    EXPECT_EQ(batched[i].tokens, alone[0].tokens) << "request " << i;
    EXPECT_EQ(batched[i].tokens.size(), static_cast<std::size_t>(requests[i].max_tokens));
  }
}

TEST_P(ModelConsistency, SharedPrefixReuseEqualsNoReuse) {
  const auto shared = random_ids(12, 20);
  std::vector<TokenRequest> requests;
  for (std::uint64_t i = 0; i < 5; ++i) {
    auto prompt = shared;
    const auto suffix = random_ids(1 + i, 30 + i);
    prompt.insert(prompt.end(), suffix.begin(), suffix.end());
    requests.push_back(greedy_request(prompt, 8));
  }
  requests.push_back(greedy_request(shared, 8));  // the prefix itself is a prompt too
  GenerationOptions reuse, no_reuse;
  reuse.max_batch = no_reuse.max_batch = 4;
  no_reuse.min_shared_prefix = 1000;
  GenerationStats with_stats, without_stats;
  const auto with = model_->generate(requests, reuse, &with_stats);
  const auto without = model_->generate(requests, no_reuse, &without_stats);
  for (std::size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(with[i].tokens, without[i].tokens);
  EXPECT_EQ(without_stats.reused_tokens, 0);
  EXPECT_GE(with_stats.reused_tokens, 5 * 12);
  EXPECT_LT(with_stats.prompt_tokens, without_stats.prompt_tokens);
}

TEST_P(ModelConsistency, SeededSamplingIsTheSameAloneAndInAnyBatch) {
  std::vector<TokenRequest> requests;
  for (std::uint64_t i = 0; i < 6; ++i) {
    TokenRequest request;
    request.prompt = random_ids(3 + i, 40 + i);
    request.max_tokens = 12;
    // Random weights give peaked distributions; a high temperature makes sampling matter.
    request.sampling = {4.0, i % 2 ? 20 : 0, i % 3 ? 0.95 : 1.0, 1000 + i};
    requests.push_back(request);
  }
  const auto batched = model_->generate(requests, batch_of(4));
  std::vector<TokenRequest> reversed(requests.rbegin(), requests.rend());
  const auto reversed_results = model_->generate(reversed, batch_of(6));
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto alone = model_->generate(std::span(&requests[i], 1));
    EXPECT_EQ(batched[i].tokens, alone[0].tokens) << "request " << i;
    EXPECT_EQ(reversed_results[requests.size() - 1 - i].tokens, alone[0].tokens) << "request " << i;
  }
  bool some_seed_differs = false;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    auto other_seed = requests[0];
    other_seed.sampling.seed += seed;
    some_seed_differs |= model_->generate(std::span(&other_seed, 1))[0].tokens != batched[0].tokens;
  }
  EXPECT_TRUE(some_seed_differs);
}

// The CPU KV cache is reused across calls without clearing (only written positions are ever
// read): a call after others that left their keys and values behind must give what the same
// call gives on a fresh model.
TEST_P(ModelConsistency, ReusedKvBuffersGiveWhatFreshOnesGive) {
  std::vector<TokenRequest> long_requests;
  for (int i = 0; i < 4; ++i) long_requests.push_back(greedy_request(random_ids(20, 70 + i), 12));
  model_->generate(long_requests, batch_of(4));
  model_->score(random_ids(30, 80), std::vector<std::vector<std::int32_t>>{random_ids(9, 81)});

  std::vector<TokenRequest> requests;
  for (int i = 0; i < 3; ++i) requests.push_back(greedy_request(random_ids(3 + i, 90 + i), 6));
  const std::vector<std::vector<std::int32_t>> continuations = {random_ids(4, 95),
                                                                random_ids(2, 96)};
  const auto prompt = random_ids(5, 97);
  const auto after_others = model_->generate(requests, batch_of(3));
  const auto scores_after_others = model_->score(prompt, continuations);

  const auto fresh = LlamaModel::from_tensors(
      GetParam().config, testing::random_llama_weights(GetParam().config, 7), {"cpu", 1});
  const auto on_fresh = fresh->generate(requests, batch_of(3));
  const auto scores_on_fresh = fresh->score(prompt, continuations);
  for (std::size_t i = 0; i < requests.size(); ++i)
    EXPECT_EQ(after_others[i].tokens, on_fresh[i].tokens) << "request " << i;
  for (std::size_t i = 0; i < continuations.size(); ++i)
    EXPECT_EQ(scores_after_others[i], scores_on_fresh[i]) << "continuation " << i;
}

TEST_P(ModelConsistency, EmbeddingsAreUnitVectorsIndependentOfTheirBatch) {
  const std::vector<std::vector<std::int32_t>> texts = {random_ids(4, 50), random_ids(9, 51),
                                                        random_ids(1, 52), random_ids(6, 53)};
  const auto together = model_->embed(texts);
  ASSERT_EQ(together.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(together[i].size(), static_cast<std::size_t>(GetParam().config.hidden_size));
    const double norm = std::sqrt(
        std::inner_product(together[i].begin(), together[i].end(), together[i].begin(), 0.0));
    EXPECT_NEAR(norm, 1.0, 1e-5);
    const auto alone = model_->embed(std::span(&texts[i], 1));
    for (std::size_t j = 0; j < alone[0].size(); ++j)
      EXPECT_NEAR(alone[0][j], together[i][j], 1e-5);
  }
  const double similarity =
      std::inner_product(together[0].begin(), together[0].end(), together[1].begin(), 0.0);
  EXPECT_LT(similarity, 0.999);
}

INSTANTIATE_TEST_SUITE_P(Variants, ModelConsistency, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant>& variant) {
                           return std::string(variant.param.name);
                         });

TEST(Sampling, GreedyIsDeterministicAndTopKOneIsGreedy) {
  const LlamaConfig config = testing::small_llama_config();
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 3));
  TokenRequest greedy;
  greedy.prompt = {1, 2, 3};
  greedy.max_tokens = 16;
  greedy.sampling.temperature = 0;
  TokenRequest top_one = greedy;
  top_one.sampling = {1.5, 1, 1.0, 99};
  const auto first = model->generate(std::span(&greedy, 1));
  EXPECT_EQ(model->generate(std::span(&greedy, 1))[0].tokens, first[0].tokens);
  EXPECT_EQ(model->generate(std::span(&top_one, 1))[0].tokens, first[0].tokens);
}

TEST(Sampling, NucleusSamplesOnlyFromTheSmallestSetHoldingTopP) {
  const LlamaConfig config = testing::small_llama_config();
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 3));
  const std::vector<std::int32_t> prompt = {3, 4, 5};
  const double temperature = 4.0, top_p = 0.6;
  const auto logits = model->forward_logits(prompt);
  const float* last = logits.data() + 2 * config.vocab_size;
  std::vector<std::pair<double, std::int32_t>> probabilities;
  double total = 0;
  const double max = *std::max_element(last, last + config.vocab_size);
  for (std::int32_t v = 0; v < config.vocab_size; ++v) {
    probabilities.emplace_back(std::exp((last[v] - max) / temperature), v);
    total += probabilities.back().first;
  }
  std::sort(probabilities.rbegin(), probabilities.rend());
  std::set<std::int32_t> nucleus;
  for (double kept = 0; kept < top_p * total;) {
    kept += probabilities[nucleus.size()].first;
    nucleus.insert(probabilities[nucleus.size()].second);
  }
  ASSERT_GE(nucleus.size(), 2u);  // else the test would not test the cut
  ASSERT_LT(nucleus.size(), 40u);
  std::set<std::int32_t> seen;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    TokenRequest request;
    request.prompt = prompt;
    request.max_tokens = 1;
    request.sampling = {temperature, 0, top_p, seed};
    const std::int32_t token = model->generate(std::span(&request, 1))[0].tokens.at(0);
    EXPECT_TRUE(nucleus.contains(token)) << "token " << token << " outside the nucleus";
    seen.insert(token);
  }
  EXPECT_GE(seen.size(), 2u);
}

TEST(Sampling, EosStopsARequestUnlessTold) {
  const LlamaConfig config = testing::small_llama_config();
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 3));
  TokenRequest request;
  request.prompt = {5, 6};
  request.max_tokens = 10;
  request.sampling.temperature = 0;
  const auto free_run = model->generate(std::span(&request, 1));
  const std::int32_t third = free_run[0].tokens.at(2);
  GenerationOptions options;
  options.eos_token_ids = {third};
  const auto stopped = model->generate(std::span(&request, 1), options);
  const auto first_eos = std::find(free_run[0].tokens.begin(), free_run[0].tokens.end(), third);
  EXPECT_EQ(stopped[0].finish, FinishReason::kEos);
  EXPECT_EQ(stopped[0].tokens,
            std::vector<std::int32_t>(free_run[0].tokens.begin(), first_eos + 1));
  request.stop_at_eos = false;
  EXPECT_EQ(model->generate(std::span(&request, 1), options)[0].tokens, free_run[0].tokens);
}

TEST(Sampling, StopStringsEndGenerationThroughTheDecoder) {
  const LlamaConfig config = testing::small_llama_config();
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 3));
  GenerationOptions options;
  options.decode = [](std::span<const std::int32_t> ids) {
    std::string text;
    for (auto id : ids) text += "<" + std::to_string(id) + ">";
    return text;
  };
  TokenRequest request;
  request.prompt = {5, 6};
  request.max_tokens = 10;
  request.sampling.temperature = 0;
  const auto free_run = model->generate(std::span(&request, 1), options);
  request.stop = {"<" + std::to_string(free_run[0].tokens.at(3)) + ">"};
  const auto stopped = model->generate(std::span(&request, 1), options);
  EXPECT_EQ(stopped[0].finish, FinishReason::kStop);
  EXPECT_LE(stopped[0].tokens.size(), 4u);
}

TEST(Sampling, GenerationEndsAtTheContext) {
  const LlamaConfig config = testing::small_llama_config();
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 3));
  TokenRequest request;
  request.prompt = std::vector<std::int32_t>(60, 7);
  request.max_tokens = 100;
  const auto result = model->generate(std::span(&request, 1));
  EXPECT_EQ(result[0].finish, FinishReason::kContext);
  EXPECT_EQ(result[0].tokens.size(), 64u - 60u + 1u);
}

}  // namespace
}  // namespace qdgen::inference
