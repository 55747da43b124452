// LlamaModel::score over many (prompt, continuations) requests in one call gives, request by
// request, what scoring each prompt alone gives: bitwise on the CPU kernels (every row's
// arithmetic is its own), within rounding on the ATen ops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "qdgen/inference/model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

class BatchedScore : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::small_llama_config();
    weights_ = testing::random_llama_weights(config_, 9);
    model_ = LlamaModel::from_tensors(config_, weights_, {"cpu", 1});
    ModelOptions no_cache{"cpu", 1};
    no_cache.prefix_cache_bytes = 0;
    alone_ = LlamaModel::from_tensors(config_, weights_, no_cache);
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
  // A judge's iteration: one instruction, a candidate each (their first tokens differ, so
  // they share exactly the instruction), answers of varied lengths; plus a pair of prompts of
  // which one starts the other, the instruction alone, and a prompt with no continuation.
  std::vector<TokenScoreRequest> judge_requests(std::size_t candidates) const {
    auto instruction = ids(20, 1);
    instruction[0] = 90;
    std::vector<TokenScoreRequest> requests;
    for (std::size_t i = 0; i < candidates; ++i) {
      TokenScoreRequest r;
      r.prompt = joined(instruction, joined({static_cast<std::int32_t>(i)}, ids(i % 9, 100 + i)));
      for (std::size_t c = 0; c < 1 + i % 3; ++c) {
        r.continuations.push_back(ids(1 + (i + c) % 6, 200 + 7 * i + c));
      }
      requests.push_back(std::move(r));
    }
    auto other = ids(11, 2);
    other[0] = 95;
    requests.push_back({other, {ids(3, 3), ids(1, 4)}, {}});
    requests.push_back({instruction, {ids(5, 5)}, {}});
    requests.push_back({ids(6, 6), {}, {}});
    requests.push_back({joined(other, ids(4, 7)), {ids(2, 8)}, {}});
    return requests;
  }

  LlamaConfig config_;
  std::vector<OwnedTensor> weights_;
  std::unique_ptr<LlamaModel> model_, alone_;
};

TEST_F(BatchedScore, ManyPromptsInOneCallScoreBitwiseAsEachAlone) {
  const auto requests = judge_requests(8);
  const auto batched = model_->score(requests);
  ASSERT_EQ(batched.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto expected = alone_->score(requests[i].prompt, requests[i].continuations);
    ASSERT_EQ(batched[i].size(), requests[i].continuations.size()) << i;
    for (std::size_t c = 0; c < expected.size(); ++c) {
      EXPECT_EQ(batched[i][c], expected[c]) << "request " << i << " continuation " << c;
      EXPECT_LT(batched[i][c], 0.0);
    }
  }
  // Shared prefixes were computed once and served: the instruction to the 8 candidates and,
  // but for its last position (which must run), to the instruction alone; the other pair's
  // 10 positions to its shorter prompt and, grown by one to 11, to its longer one (whose
  // computation reused the 10).
  EXPECT_EQ(model_->prefix_cache_stats().reused_tokens, 8 * 20 + 19 + 10 + 10 + 11);
}

TEST_F(BatchedScore, MoreRequestsThanOneGroupHolds) {
  // 70 prompts: more than the 64 rows of a prompt pass, and continuation passes that mix them.
  const auto requests = judge_requests(70);
  const auto batched = model_->score(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto expected = alone_->score(requests[i].prompt, requests[i].continuations);
    for (std::size_t c = 0; c < expected.size(); ++c)
      EXPECT_EQ(batched[i][c], expected[c]) << "request " << i << " continuation " << c;
  }
  // A second call finds the instruction kept.
  const auto reused = model_->prefix_cache_stats().reused_tokens;
  const auto again = model_->score(requests);
  EXPECT_GE(model_->prefix_cache_stats().reused_tokens - reused, 70 * 20);
  EXPECT_EQ(again, batched);
}

TEST_F(BatchedScore, TheAtenOpsAgreeWithinRounding) {
  ModelOptions options;
  options.device = "cpu";
  options.threads = 1;
  options.aten_forward = true;
  const auto aten = LlamaModel::from_tensors(config_, weights_, options);
  const auto requests = judge_requests(6);
  const auto batched = aten->score(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto expected = aten->score(requests[i].prompt, requests[i].continuations);
    for (std::size_t c = 0; c < expected.size(); ++c) {
      EXPECT_NEAR(batched[i][c], expected[c], 1e-5 * std::max(1.0, std::abs(expected[c])))
          << "request " << i << " continuation " << c;
    }
  }
}

TEST_F(BatchedScore, ErrorsNameTheRequestWhenThereAreSeveral) {
  const auto message = [&](const std::vector<TokenScoreRequest>& requests) {
    try {
      model_->score(requests);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const TokenScoreRequest good{{1, 2, 3}, {{4}}, {}};
  EXPECT_EQ(message({good, {{1, 2}, {{5}, {}}, {}}}), "score request 1 continuation 1: no tokens");
  EXPECT_EQ(message({good, {{}, {{5}}, {}}}), "score request 1: the prompt has no tokens");
  EXPECT_EQ(message({{{1, 2}, {{5}, {}}, {}}}), "score continuation 1: no tokens");
  EXPECT_EQ(message({good, {{1, 2}, {{96}}, {}}}),
            "score request 1 continuation 0: token id 96 at position 0 is outside the vocabulary "
            "[0, 96)");
  EXPECT_EQ(message({good, {{1, 2}, {{5}}, {{{"style", 1.0}}}}}),
            "score request 1: the LoRA mixture names adapter 'style', which is not loaded (the "
            "model has no adapters)");
  EXPECT_TRUE(model_->score(std::vector<TokenScoreRequest>{}).empty());
}

}  // namespace
}  // namespace qdgen::inference
