// "Activated" LoRA mixtures (issue 13): LoraMixture::from_position = p applies the mixture to
// the tokens at positions >= p only. The default (0) is PEFT's semantics, every position; with
// p > 0 the logits before p are the base model's, those from p on equal the same request run
// alone with nothing shared, and a prompt shared by rows of different mixtures is read by the
// base model once, within a call and across calls.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lora_test_models.hpp"

namespace qdgen::inference {
namespace {

using namespace lora_test;

LoraMixture from(LoraMixture mixture, std::int64_t position) {
  mixture.from_position = position;
  return mixture;
}

std::vector<float> rows_of(const std::vector<float>& logits, std::int64_t vocab, std::int64_t first,
                           std::int64_t last) {
  return {logits.begin() + first * vocab, logits.begin() + last * vocab};
}

class LoraActivation : public ::testing::TestWithParam<Shape> {
 protected:
  const LlamaConfig& config() const { return GetParam().config; }
  std::vector<OwnedTensor> base() const { return testing::random_llama_weights(config(), 7); }
  std::unique_ptr<LlamaModel> model(bool aten = false, bool reuse = true) const {
    ModelOptions options = cpu_options(three_adapters(config()), aten);
    if (!reuse) options.prefix_cache_bytes = 0;
    return LlamaModel::from_tensors(config(), base(), options);
  }
  LoraMixture random_mixture(std::uint64_t seed) const {
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> weight(-1.0, 1.5);
    return mixture(
        {{"all", weight(random)}, {"attention", weight(random)}, {"mlp", weight(random)}});
  }
};

TEST_P(LoraActivation, TheDefaultIsPeftsEveryPositionMixture) {
  const auto adapters = three_adapters(config());
  const auto with = model();
  const auto prompt = ids(config(), 12, 1);
  const LoraMixture lora = mixture({{"all", 0.8}, {"mlp", -0.6}});
  EXPECT_EQ(LoraMixture().from_position, 0);
  EXPECT_EQ(with->forward_logits(prompt, from(lora, 0)), with->forward_logits(prompt, lora));
  // PEFT merges the adapter into the weights: every position reads it.
  const auto merged_model = LlamaModel::from_tensors(
      config(), merged(config(), base(), {&adapters[0], &adapters[2]}, {0.8, -0.6}), cpu_options());
  EXPECT_LT(
      max_difference(with->forward_logits(prompt, lora), merged_model->forward_logits(prompt)),
      1e-4);
}

TEST_P(LoraActivation, PositionsBeforeTheStartAreTheBaseModelsAndFromItOnTheMixtures) {
  const std::int64_t vocab = config().vocab_size, length = 12, start = 5;
  const auto with = model();
  const auto plain = LlamaModel::from_tensors(config(), base(), cpu_options());
  const auto prompt = ids(config(), static_cast<std::size_t>(length), 2);
  const LoraMixture lora = random_mixture(3);
  const auto activated = with->forward_logits(prompt, from(lora, start));
  const auto base_logits = plain->forward_logits(prompt);
  const auto everywhere = with->forward_logits(prompt, lora);
  EXPECT_EQ(rows_of(activated, vocab, 0, start), rows_of(base_logits, vocab, 0, start));
  // From the start on the mixture steers, over the base model's KV of the positions before.
  EXPECT_GT(max_difference(rows_of(activated, vocab, start, length),
                           rows_of(base_logits, vocab, start, length)),
            1e-3);
  EXPECT_GT(max_difference(rows_of(activated, vocab, start, length),
                           rows_of(everywhere, vocab, start, length)),
            1e-3);
  // A start at or past the end leaves every position to the base model.
  EXPECT_EQ(with->forward_logits(prompt, from(lora, length)), base_logits);
  // The ATen path agrees.
  EXPECT_LT(max_difference(model(true)->forward_logits(prompt, from(lora, start)), activated),
            1e-4);
}

// Rows of one call: a shared template, a tail each, a mixture each; most activated at the last
// prompt token, some at a position inside the template or past the prompt (their first decode
// steps run the base), one with layer weights, one PEFT-style, one base.
std::vector<TokenRequest> activated_requests(const LlamaConfig& config,
                                             const std::vector<LoraMixture>& mixtures,
                                             std::size_t template_length) {
  const auto shared = ids(config, template_length, 70);
  std::vector<TokenRequest> requests;
  for (std::size_t i = 0; i < mixtures.size(); ++i) {
    auto prompt = shared;
    const auto tail = ids(config, 3, 80 + i);
    prompt.insert(prompt.end(), tail.begin(), tail.end());
    requests.push_back(greedy(prompt, mixtures[i], 6));
  }
  return requests;
}

TEST_P(LoraActivation, GenerationReadsASharedPromptOnceAcrossMixturesAndEachRowIsAsAlone) {
  const auto reusing = model();
  const auto fresh = model(false, false);
  const std::size_t rows = 8, template_length = 16;
  std::vector<LoraMixture> mixtures;
  for (std::size_t i = 0; i < rows; ++i) {
    mixtures.push_back(from(random_mixture(10 + i), LoraMixture::kLastPromptToken));
  }
  const auto requests = activated_requests(config(), mixtures, template_length);
  GenerationStats first, second, others;
  const auto together = reusing->generate(requests, {}, &first);
  // The template once, then every row's tail.
  EXPECT_LE(first.prompt_tokens, static_cast<std::int64_t>(template_length + rows * 3));
  EXPECT_GE(first.reused_tokens, static_cast<std::int64_t>(rows * template_length));
  for (std::size_t i = 0; i < rows; ++i) {
    EXPECT_EQ(together[i].tokens, fresh->generate(std::span(&requests[i], 1))[0].tokens) << i;
    // kLastPromptToken is the position of the prompt's last token.
    TokenRequest explicit_start = requests[i];
    explicit_start.lora.from_position = static_cast<std::int64_t>(requests[i].prompt.size()) - 1;
    EXPECT_EQ(together[i].tokens, fresh->generate(std::span(&explicit_start, 1))[0].tokens) << i;
  }
  // The model keeps the base model's template: the next call's mixtures, other ones too, read
  // only their tails.
  reusing->generate(requests, {}, &second);
  EXPECT_LE(second.prompt_tokens, static_cast<std::int64_t>(rows * 3));
  std::vector<LoraMixture> other_mixtures;
  for (std::size_t i = 0; i < rows; ++i) {
    other_mixtures.push_back(from(random_mixture(50 + i), LoraMixture::kLastPromptToken));
  }
  const auto other_requests = activated_requests(config(), other_mixtures, template_length);
  const auto other = reusing->generate(other_requests, {}, &others);
  EXPECT_LE(others.prompt_tokens, static_cast<std::int64_t>(rows * 3));
  for (std::size_t i = 0; i < rows; ++i) {
    EXPECT_EQ(other[i].tokens, fresh->generate(std::span(&other_requests[i], 1))[0].tokens) << i;
  }
  // PEFT's semantics share nothing between different mixtures.
  std::vector<TokenRequest> peft = requests;
  for (TokenRequest& request : peft) request.lora.from_position = 0;
  GenerationStats peft_stats;
  model()->generate(peft, {}, &peft_stats);
  EXPECT_EQ(peft_stats.reused_tokens, 0);
}

TEST_P(LoraActivation, ABatchOfStartsLayerWeightsAndBaseRowsGivesRowByRowWhatEachGivesAlone) {
  const auto reusing = model();
  const auto fresh = model(false, false);
  LoraMixture per_layer = from(LoraMixture(), LoraMixture::kLastPromptToken);
  for (const char* name : {"all", "mlp"}) {
    std::vector<double> weights;
    for (std::int64_t l = 0; l < config().num_hidden_layers; ++l) weights.push_back(1.0 - 0.8 * l);
    per_layer.layer_weights.emplace_back(name, weights);
  }
  const std::vector<LoraMixture> mixtures = {
      from(random_mixture(1), LoraMixture::kLastPromptToken),
      from(random_mixture(2), 10),  // inside the template
      from(random_mixture(3), 21),  // past the 19-token prompt: the first decode steps are base
      per_layer,
      random_mixture(4),  // PEFT's
      {},
      from(random_mixture(5), LoraMixture::kLastPromptToken),
      from(random_mixture(1), 4)};
  const auto requests = activated_requests(config(), mixtures, 16);
  GenerationOptions options;
  options.max_batch = 32;
  const auto together = reusing->generate(requests, options);
  const auto again = reusing->generate(requests, options);
  const auto aten = model(true)->generate(requests, options);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto alone = fresh->generate(std::span(&requests[i], 1))[0].tokens;
    EXPECT_EQ(together[i].tokens, alone) << i;
    EXPECT_EQ(again[i].tokens, alone) << i;
    EXPECT_EQ(aten[i].tokens, alone) << i;
  }
}

TEST_P(LoraActivation, ScoresAndEmbeddingsOfActivatedMixturesAreAsAlone) {
  const auto reusing = model();
  const auto fresh = model(false, false);
  const auto judge = ids(config(), 14, 90);
  std::vector<TokenScoreRequest> scores;
  for (std::size_t i = 0; i < 8; ++i) {
    auto prompt = judge;
    const auto tail = ids(config(), 2, 91 + i);
    prompt.insert(prompt.end(), tail.begin(), tail.end());
    const std::int64_t start = i % 3 == 0 ? 6 : LoraMixture::kLastPromptToken;
    scores.push_back({prompt,
                      {ids(config(), 3, 120 + i), ids(config(), 1, 130 + i)},
                      from(random_mixture(20 + i), start)});
  }
  const auto together = reusing->score(std::span<const TokenScoreRequest>(scores));
  const auto kept_before = reusing->prefix_cache_stats().reused_tokens;
  reusing->score(std::span<const TokenScoreRequest>(scores));
  // The second call finds the judge's prompt kept for every mixture.
  EXPECT_GE(reusing->prefix_cache_stats().reused_tokens - kept_before, 8 * 6);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto alone = fresh->score(std::span<const TokenScoreRequest>(&scores[i], 1))[0];
    for (std::size_t c = 0; c < alone.size(); ++c) {
      EXPECT_NEAR(together[i][c], alone[c], 1e-9) << i << " " << c;
    }
  }
  // kLastPromptToken scores every continuation token under the mixture: not the base's, not
  // PEFT's.
  TokenScoreRequest last = scores[1];
  const double activated = fresh->score(std::span<const TokenScoreRequest>(&last, 1))[0][1];
  last.lora.from_position = static_cast<std::int64_t>(last.prompt.size()) - 1;
  EXPECT_EQ(fresh->score(std::span<const TokenScoreRequest>(&last, 1))[0][1], activated);
  last.lora.from_position = 0;
  EXPECT_GT(std::fabs(fresh->score(std::span<const TokenScoreRequest>(&last, 1))[0][1] - activated),
            1e-6);
  last.lora = {};
  EXPECT_GT(std::fabs(fresh->score(std::span<const TokenScoreRequest>(&last, 1))[0][1] - activated),
            1e-6);

  // Embeddings: a start within each text, batched as alone; a start past the text is the base.
  std::vector<std::vector<std::int32_t>> texts;
  std::vector<LoraMixture> mixtures;
  for (std::size_t i = 0; i < 6; ++i) {
    texts.push_back(ids(config(), 6 + i, 140 + i));
    mixtures.push_back(from(random_mixture(30 + i), static_cast<std::int64_t>(i)));
  }
  const auto embedded = reusing->embed(texts, false, mixtures);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto alone = fresh->embed(std::span(&texts[i], 1), false, std::span(&mixtures[i], 1));
    EXPECT_LT(max_difference(embedded[i], alone[0]), 1e-6) << i;
  }
  const LoraMixture past = from(random_mixture(9), 100);
  EXPECT_EQ(fresh->embed(std::span(&texts[0], 1), false, std::span(&past, 1)),
            fresh->embed(std::span(&texts[0], 1)));
}

INSTANTIATE_TEST_SUITE_P(Shapes, LoraActivation, ::testing::ValuesIn(shapes()),
                         [](const auto& shape) { return std::string(shape.param.name); });

TEST(LoraActivationRefusals, NameTheRequestAndWhatWasExpected) {
  const LlamaConfig config = testing::small_llama_config();
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7),
                                              cpu_options(three_adapters(config)));
  const auto prompt = ids(config, 5, 1);
  const LoraMixture negative = from(mixture({{"all", 1.0}}), -2);
  const std::string below =
      "the LoRA mixture's from_position is -2; expected a position >= 0 or kLastPromptToken";
  EXPECT_EQ(message_of([&] { model->forward_logits(prompt, negative); }),
            "forward_logits: " + below);
  const std::vector<TokenRequest> requests{greedy(prompt, {}), greedy(prompt, negative)};
  EXPECT_EQ(message_of([&] { model->generate(requests); }), "request 1: " + below);
  const std::vector<TokenScoreRequest> scores{{prompt, {prompt}, negative}};
  EXPECT_EQ(message_of([&] { model->score(std::span<const TokenScoreRequest>(scores)); }),
            "score: " + below);
  // Without a prompt there is no last prompt token.
  const LoraMixture last = from(mixture({{"all", 1.0}}), LoraMixture::kLastPromptToken);
  const std::string no_prompt =
      "the LoRA mixture's from_position kLastPromptToken needs a prompt; give a position";
  EXPECT_EQ(message_of([&] { model->forward_logits(prompt, last); }),
            "forward_logits: " + no_prompt);
  const std::vector<std::vector<std::int32_t>> texts{prompt};
  EXPECT_EQ(message_of([&] { model->embed(texts, false, std::span(&last, 1)); }),
            "embed text 0: " + no_prompt);
}

}  // namespace
}  // namespace qdgen::inference
