// The prefix cache a model keeps across calls: a later call that shares a prompt prefix with
// an earlier one reuses its KV, and gives what a model without the cache gives.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "qdgen/inference/model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

class PrefixCacheAcrossCalls : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::small_llama_config();
    const auto weights = testing::random_llama_weights(config_, 11);
    kept_ = LlamaModel::from_tensors(config_, weights, {"cpu", 1});
    ModelOptions no_cache{"cpu", 1};
    no_cache.prefix_cache_bytes = 0;
    cold_ = LlamaModel::from_tensors(config_, weights, no_cache);
  }

  std::vector<std::int32_t> ids(std::size_t count, std::uint64_t seed) const {
    std::mt19937_64 random(seed);
    std::vector<std::int32_t> out(count);
    for (auto& id : out) id = static_cast<std::int32_t>(random() % config_.vocab_size);
    return out;
  }
  std::vector<std::int32_t> joined(std::vector<std::int32_t> a,
                                   const std::vector<std::int32_t>& b) const {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  TokenRequest greedy(std::vector<std::int32_t> prompt) const {
    TokenRequest request;
    request.prompt = std::move(prompt);
    request.max_tokens = 8;
    request.sampling.temperature = 0;
    request.stop_at_eos = false;
    return request;
  }
  // Bytes of KV one position takes in the small model (fp32 keys and values, every layer).
  std::int64_t bytes_per_token() const {
    return 2 * config_.num_hidden_layers * config_.num_key_value_heads * config_.head_dim * 4;
  }

  LlamaConfig config_;
  std::unique_ptr<LlamaModel> kept_, cold_;
};

TEST_F(PrefixCacheAcrossCalls, ScoreOnASecondCallReusesThePromptAndMatchesNoCache) {
  const auto prompt = ids(30, 1);
  const std::vector<std::vector<std::int32_t>> continuations = {ids(1, 2), ids(5, 3), ids(3, 4)};
  const auto expected = cold_->score(prompt, continuations);
  const auto first = kept_->score(prompt, continuations);
  EXPECT_EQ(kept_->prefix_cache_stats().reused_tokens, 0);
  EXPECT_EQ(kept_->prefix_cache_stats().tokens, 30);
  const auto second = kept_->score(prompt, continuations);
  // All but the prompt's last position, which must run to give the first token's logits.
  EXPECT_EQ(kept_->prefix_cache_stats().reused_tokens, 29);
  for (std::size_t i = 0; i < continuations.size(); ++i) {
    EXPECT_NEAR(first[i], expected[i], 1e-4 * std::abs(expected[i])) << i;
    EXPECT_NEAR(second[i], expected[i], 1e-4 * std::abs(expected[i])) << i;
  }
  EXPECT_EQ(cold_->prefix_cache_stats().entries, 0);
  EXPECT_EQ(cold_->prefix_cache_stats().reused_tokens, 0);
}

TEST_F(PrefixCacheAcrossCalls, ALaterPromptReusesTheSharedPartOfAnEarlierOne) {
  // The judge's pattern: one instruction, a different candidate each call.
  const auto instruction = ids(24, 5);
  const std::vector<std::vector<std::int32_t>> answers = {ids(1, 6), ids(2, 7)};
  kept_->score(joined(instruction, ids(6, 8)), answers);
  const auto other = joined(instruction, ids(9, 9));
  const auto scores = kept_->score(other, answers);
  EXPECT_EQ(kept_->prefix_cache_stats().reused_tokens, 24);
  const auto expected = cold_->score(other, answers);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    EXPECT_NEAR(scores[i], expected[i], 1e-4 * std::abs(expected[i])) << i;
  }
}

TEST_F(PrefixCacheAcrossCalls, GenerationReusesAnEarlierCallsTemplate) {
  const auto shared_template = ids(20, 10);
  // Call 1: several requests on the template; call 2: new requests on it; call 3: one alone.
  std::vector<TokenRequest> first, second;
  for (std::uint64_t i = 0; i < 3; ++i) {
    first.push_back(greedy(joined(shared_template, ids(2 + i, 20 + i))));
    second.push_back(greedy(joined(shared_template, ids(3 + i, 30 + i))));
  }
  const TokenRequest alone = greedy(joined(shared_template, ids(4, 40)));
  GenerationStats stats;
  kept_->generate(first, {}, &stats);
  EXPECT_EQ(stats.reused_tokens, 3 * 20);  // computed once in the call, reused by all three
  const auto second_results = kept_->generate(second, {}, &stats);
  EXPECT_EQ(stats.reused_tokens, 3 * 20);
  EXPECT_EQ(stats.prompt_tokens, 3 + 4 + 5);  // the suffixes only
  const auto alone_result = kept_->generate(std::span(&alone, 1), {}, &stats);
  EXPECT_EQ(stats.reused_tokens, 20);

  const auto expected = cold_->generate(second);
  for (std::size_t i = 0; i < second.size(); ++i) {
    EXPECT_EQ(second_results[i].tokens, expected[i].tokens) << i;
  }
  EXPECT_EQ(alone_result[0].tokens, cold_->generate(std::span(&alone, 1))[0].tokens);
  GenerationStats cold_stats;
  cold_->generate(std::span(&alone, 1), {}, &cold_stats);
  EXPECT_EQ(cold_stats.reused_tokens, 0);
}

TEST_F(PrefixCacheAcrossCalls, TheMemoryCapEvictsTheLeastRecentlyUsed) {
  ModelOptions small{"cpu", 1};
  small.prefix_cache_bytes = 45 * bytes_per_token();  // room for one 30-token prompt, not two
  const auto model =
      LlamaModel::from_tensors(config_, testing::random_llama_weights(config_, 11), small);
  const auto a = ids(30, 50), b = ids(30, 51);
  const std::vector<std::vector<std::int32_t>> answer = {ids(2, 52)};
  model->score(a, answer);
  model->score(b, answer);  // evicts a
  PrefixCacheStats stats = model->prefix_cache_stats();
  EXPECT_EQ(stats.entries, 1);
  EXPECT_LE(stats.bytes, stats.capacity_bytes);
  const auto again = model->score(a, answer);  // a was evicted: nothing to reuse
  EXPECT_EQ(model->prefix_cache_stats().reused_tokens, 0);
  model->score(a, answer);  // a is kept now
  EXPECT_EQ(model->prefix_cache_stats().reused_tokens, 29);
  EXPECT_NEAR(again[0], cold_->score(a, answer)[0], 1e-4 * std::abs(again[0]));

  // A prompt larger than the whole budget is not kept; clearing empties the cache.
  model->score(ids(50, 53), answer);
  EXPECT_LE(model->prefix_cache_stats().bytes, stats.capacity_bytes);
  model->clear_prefix_cache();
  EXPECT_EQ(model->prefix_cache_stats().entries, 0);
  EXPECT_EQ(model->prefix_cache_stats().bytes, 0);
}

}  // namespace
}  // namespace qdgen::inference
