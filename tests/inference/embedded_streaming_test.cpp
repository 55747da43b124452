// The embedded LanguageModel on the batch engine: streamed text, cancellation from the
// callback, concurrent generate() calls, and one batched score() call, each against what the
// same requests give without them. The Llama 2 tokenizer.json, and a random model whose
// classifier favours a few byte tokens (so that characters span tokens) and words.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

#include "qdgen/inference/embedded_model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t extra = lead < 0x80           ? 0
                              : (lead >> 5) == 0x6  ? 1
                              : (lead >> 4) == 0xE  ? 2
                              : (lead >> 3) == 0x1E ? 3
                                                    : 9;
    if (extra == 9 || (extra == 1 && lead < 0xC2) || i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

class EmbeddedStreaming : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tokenizer = load_tokenizer(std::filesystem::path(QDGEN_SHARED_DATA) /
                                    "tokenizers/llama2/tokenizer.json");
    LlamaConfig config = testing::small_llama_config();
    config.vocab_size = 32000;
    auto weights = testing::random_llama_weights(config, 17);
    // Bytes of "é", "€" and "😀" (each a piece of a character alone) and three words.
    std::vector<std::int32_t> favoured;
    for (const char* piece : {"<0xC3>", "<0xA9>", "<0xE2>", "<0x82>", "<0xAC>", "<0xF0>", "<0x9F>",
                              "<0x98>", "<0x80>", "▁the", "▁cat", "▁sat"}) {
      favoured.push_back(tokenizer->token_to_id(piece).value());
    }
    for (OwnedTensor& tensor : weights) {
      if (tensor.name != "lm_head.weight") continue;
      for (const std::int32_t id : favoured) {
        for (std::int64_t d = 0; d < config.hidden_size; ++d)
          tensor.data[static_cast<std::size_t>(id * config.hidden_size + d)] *= 40.0f;
      }
    }
    model_ = new EmbeddedLanguageModel(LlamaModel::from_tensors(config, weights, {"cpu", 1}),
                                       std::move(tokenizer), 8);
  }
  static void TearDownTestSuite() { delete model_; }

  static std::vector<llm::GenerationRequest> requests(std::uint64_t first_seed) {
    std::vector<llm::GenerationRequest> out;
    for (std::uint64_t i = 0; i < 6; ++i) {
      llm::GenerationRequest r;
      r.prompt = i % 2 ? "Once upon a time" : "The cat";
      r.max_tokens = 30 + 3 * static_cast<std::int64_t>(i);
      r.sampling = {20.0, 8, 1.0, first_seed + i};
      r.stop_at_eos = false;
      if (i % 3 == 2) r.stop = {" cat sat", " the the", "\xC3\x9F"};  // "ß"
      out.push_back(std::move(r));
    }
    return out;
  }

  struct Streamed {
    std::string text;
    std::vector<std::int32_t> tokens;
    int events = 0;
    int held_back = 0;  // events with tokens but no text yet
    bool all_valid = true;
  };
  // Gives each request a callback that records what it streams into `streamed`.
  static void record(std::vector<llm::GenerationRequest>& list, std::vector<Streamed>& streamed) {
    streamed.assign(list.size(), {});
    for (std::size_t i = 0; i < list.size(); ++i) {
      list[i].on_token = [&streamed, i](const llm::TokenEvent& event) {
        Streamed& s = streamed[i];
        ++s.events;
        s.all_valid &= valid_utf8(event.text);
        s.held_back += !event.tokens.empty() && event.text.empty();
        s.text += event.text;
        s.tokens.insert(s.tokens.end(), event.tokens.begin(), event.tokens.end());
        return true;
      };
    }
  }

  static inline EmbeddedLanguageModel* model_ = nullptr;
};

TEST_F(EmbeddedStreaming, StreamedTextIsValidUtf8AtEveryStepAndAddsUpToTheFinalText) {
  auto plain = requests(100);
  const auto expected = model_->generate(plain);
  auto streaming = plain;
  std::vector<Streamed> streamed;
  record(streaming, streamed);
  const auto generations = model_->generate(streaming);
  int held_back = 0, stopped = 0, multibyte = 0;
  for (std::size_t i = 0; i < generations.size(); ++i) {
    EXPECT_EQ(generations[i].tokens, expected[i].tokens) << i;
    EXPECT_EQ(generations[i].text, expected[i].text) << i;
    EXPECT_EQ(streamed[i].text, generations[i].text) << i;
    EXPECT_EQ(streamed[i].tokens, generations[i].tokens) << i;
    EXPECT_TRUE(streamed[i].all_valid) << i;
    held_back += streamed[i].held_back;
    stopped += generations[i].finish == llm::FinishReason::kStop;
    multibyte += std::any_of(generations[i].text.begin(), generations[i].text.end(),
                             [](char c) { return static_cast<unsigned char>(c) >= 0xC2; });
  }
  // What the test relies on to mean something: characters split over tokens, stop strings hit.
  EXPECT_GT(held_back, 0);
  EXPECT_GT(stopped, 0);
  EXPECT_GT(multibyte, 0);
}

TEST_F(EmbeddedStreaming, ReturningFalseCancelsTheRequest) {
  auto list = requests(200);
  const auto expected = model_->generate(list);
  std::string text;
  std::size_t tokens = 0;
  list[1].on_token = [&](const llm::TokenEvent& event) {
    text += event.text;
    tokens += event.tokens.size();
    return tokens < 5;
  };
  const auto generations = model_->generate(list);
  EXPECT_EQ(generations[1].finish, llm::FinishReason::kCancelled);
  EXPECT_EQ(generations[1].tokens,
            std::vector<std::int32_t>(expected[1].tokens.begin(), expected[1].tokens.begin() + 5));
  EXPECT_EQ(generations[1].text.substr(0, text.size()), text);
  EXPECT_EQ(tokens, 5u);
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i == 1) continue;
    EXPECT_EQ(generations[i].tokens, expected[i].tokens) << i;
  }
}

TEST_F(EmbeddedStreaming, ConcurrentGenerateCallsEqualSeparateOnes) {
  auto first = requests(300), second = requests(400);
  const auto expected_first = model_->generate(first), expected_second = model_->generate(second);
  std::vector<Streamed> streamed_first, streamed_second;
  record(first, streamed_first);
  record(second, streamed_second);
  std::vector<llm::Generation> got_first, got_second;
  std::atomic<int> ready = 0;
  const auto run = [&](const std::vector<llm::GenerationRequest>& list,
                       std::vector<llm::Generation>& out) {
    ++ready;
    while (ready < 2) std::this_thread::yield();
    out = model_->generate(list);
  };
  std::thread a(run, std::cref(first), std::ref(got_first));
  std::thread b(run, std::cref(second), std::ref(got_second));
  a.join();
  b.join();
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(got_first[i].text, expected_first[i].text) << i;
    EXPECT_EQ(got_second[i].text, expected_second[i].text) << i;
    EXPECT_EQ(got_first[i].tokens, expected_first[i].tokens) << i;
    EXPECT_EQ(got_second[i].tokens, expected_second[i].tokens) << i;
    EXPECT_EQ(streamed_first[i].text, got_first[i].text) << i;
    EXPECT_EQ(streamed_second[i].text, got_second[i].text) << i;
  }
}

TEST_F(EmbeddedStreaming, OneScoreCallOverManyPromptsEqualsEachAlone) {
  std::vector<llm::ScoreRequest> list;
  for (const char* story : {"A cat sat.", "The dog ran home.", "Rain fell all day and night.", "é",
                            "The cat sat on the mat."}) {
    list.push_back(
        {std::string("Is this story good? Answer yes or no. Story: ") + story + "\nAnswer:",
         {" yes", " no", " not at all"},
         {}});
  }
  list.push_back({"Unrelated prompt", {" the cat"}, {}});
  const auto batched = model_->score(list);
  ASSERT_EQ(batched.size(), list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto alone = model_->score(std::span(&list[i], 1));
    ASSERT_EQ(batched[i].size(), list[i].continuations.size());
    for (std::size_t c = 0; c < alone[0].size(); ++c) {
      EXPECT_EQ(batched[i][c].logprob, alone[0][c].logprob) << i << " " << c;
      EXPECT_EQ(batched[i][c].tokens, alone[0][c].tokens) << i << " " << c;
    }
  }
}

}  // namespace
}  // namespace qdgen::inference
