// Per-layer LoRA mixtures (issue 13): a request may weigh an adapter differently in every layer
// (LoraMixture::layer_weights). Equal layer weights are the plain weight, unequal ones equal the
// model merged layer by layer, rows of one batch mix layer weights and plain mixtures, prefix
// reuse keys on them, the ATen path equals the CPU kernels, and the refusals name the adapter.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lora_test_models.hpp"

namespace qdgen::inference {
namespace {

using namespace lora_test;

// Adapter `adapter`'s modules of one layer, as an adapter of its own (for merging layer by
// layer with a weight each).
LoraAdapter layer_of(const LoraAdapter& adapter, std::int64_t layer) {
  LoraAdapter part = adapter;
  part.name = adapter.name + "@" + std::to_string(layer);
  part.modules.clear();
  for (const LoraModule& m : adapter.modules) {
    if (m.layer == layer) part.modules.push_back(m);
  }
  return part;
}

LoraMixture layered(std::vector<std::pair<std::string, std::vector<double>>> layers,
                    std::vector<std::pair<std::string, double>> plain = {}) {
  LoraMixture m(std::move(plain));
  m.layer_weights = std::move(layers);
  return m;
}

class LoraLayerWeights : public ::testing::TestWithParam<Shape> {
 protected:
  const LlamaConfig& config() const { return GetParam().config; }
  std::vector<OwnedTensor> base() const { return testing::random_llama_weights(config(), 7); }
  std::vector<double> per_layer(double first, double step) const {
    std::vector<double> weights;
    for (std::int64_t l = 0; l < config().num_hidden_layers; ++l)
      weights.push_back(first + step * l);
    return weights;
  }
};

TEST_P(LoraLayerWeights, EqualLayerWeightsAreThePlainWeight) {
  const auto model =
      LlamaModel::from_tensors(config(), base(), cpu_options(three_adapters(config())));
  const auto prompt = ids(config(), 12, 1);
  const LoraMixture plain = mixture({{"all", 0.7}, {"mlp", -0.4}});
  const LoraMixture same = layered({{"all", per_layer(0.7, 0.0)}}, {{"mlp", -0.4}});
  EXPECT_EQ(model->forward_logits(prompt, same), model->forward_logits(prompt, plain));
}

TEST_P(LoraLayerWeights, LayerWeightsEqualTheModelMergedLayerByLayer) {
  const auto adapters = three_adapters(config());
  const auto model = LlamaModel::from_tensors(config(), base(), cpu_options(adapters));
  const std::vector<double> all = per_layer(1.2, -0.9), attention = per_layer(-0.5, 1.1);
  const LoraMixture lora = layered({{"all", all}, {"attention", attention}}, {{"mlp", 0.6}});
  std::vector<LoraAdapter> parts;
  std::vector<double> weights;
  for (std::int64_t l = 0; l < config().num_hidden_layers; ++l) {
    parts.push_back(layer_of(adapters[0], l));
    weights.push_back(all[static_cast<std::size_t>(l)]);
    parts.push_back(layer_of(adapters[1], l));
    weights.push_back(attention[static_cast<std::size_t>(l)]);
  }
  parts.push_back(adapters[2]);
  weights.push_back(0.6);
  std::vector<const LoraAdapter*> merge;
  for (const LoraAdapter& part : parts) merge.push_back(&part);
  const auto reference =
      LlamaModel::from_tensors(config(), merged(config(), base(), merge, weights), cpu_options());
  const auto prompt = ids(config(), 14, 2);
  EXPECT_LT(max_difference(model->forward_logits(prompt, lora), reference->forward_logits(prompt)),
            1e-4);
  // Not what the layers' mean weight gives.
  const LoraMixture mean = mixture({{"all", 0.75}, {"attention", 0.05}, {"mlp", 0.6}});
  EXPECT_GT(
      max_difference(model->forward_logits(prompt, lora), model->forward_logits(prompt, mean)),
      1e-3);
  const std::vector<TokenRequest> unmerged{greedy(prompt, lora, 10)};
  const std::vector<TokenRequest> plain{greedy(prompt, {}, 10)};
  EXPECT_EQ(model->generate(unmerged)[0].tokens, reference->generate(plain)[0].tokens);
}

std::vector<LoraMixture> mixed_mixtures(const LlamaConfig& config) {
  std::vector<LoraMixture> mixtures;
  for (int i = 0; i < 12; ++i) {
    std::vector<double> weights;
    for (std::int64_t l = 0; l < config.num_hidden_layers; ++l)
      weights.push_back(0.3 * (i % 5) - 0.2 * l);
    switch (i % 4) {
      case 0:
        mixtures.push_back({});
        break;
      case 1:
        mixtures.push_back(mixture({{"all", 0.1 * i}, {"mlp", -0.5}}));
        break;
      case 2:
        mixtures.push_back(layered({{"all", weights}}));
        break;
      default:
        mixtures.push_back(layered({{"attention", weights}, {"mlp", weights}}, {{"all", 0.4}}));
    }
  }
  return mixtures;
}

TEST_P(LoraLayerWeights, ABatchMixingLayerWeightsAndPlainMixturesGivesRowByRowWhatEachGivesAlone) {
  const auto model =
      LlamaModel::from_tensors(config(), base(), cpu_options(three_adapters(config())));
  const auto mixtures = mixed_mixtures(config());
  std::vector<TokenRequest> batch;
  std::vector<TokenScoreRequest> scores;
  std::vector<std::vector<std::int32_t>> texts;
  for (std::size_t i = 0; i < mixtures.size(); ++i) {
    batch.push_back(greedy(ids(config(), 3 + i % 5, 100 + i), mixtures[i], 6));
    scores.push_back({ids(config(), 4 + i % 3, 200 + i), {ids(config(), 3, 300 + i)}, mixtures[i]});
    texts.push_back(ids(config(), 5, 500 + i));
  }
  GenerationOptions options;
  options.max_batch = 32;
  const auto together = model->generate(batch, options);
  const auto scored = model->score(std::span<const TokenScoreRequest>(scores));
  const auto embedded = model->embed(texts, false, mixtures);
  for (std::size_t i = 0; i < mixtures.size(); ++i) {
    EXPECT_EQ(together[i].tokens, model->generate(std::span(&batch[i], 1))[0].tokens) << i;
    EXPECT_NEAR(scored[i][0], model->score(std::span<const TokenScoreRequest>(&scores[i], 1))[0][0],
                1e-9)
        << i;
    const auto alone = model->embed(std::span(&texts[i], 1), false, std::span(&mixtures[i], 1));
    EXPECT_LT(max_difference(embedded[i], alone[0]), 1e-6) << i;
  }
}

TEST_P(LoraLayerWeights, PrefixReuseWithLayerWeightsEqualsNoReuse) {
  const auto adapters = three_adapters(config());
  const auto reusing = LlamaModel::from_tensors(config(), base(), cpu_options(adapters));
  ModelOptions none = cpu_options(adapters);
  none.prefix_cache_bytes = 0;
  const auto fresh = LlamaModel::from_tensors(config(), base(), none);
  const auto shared = ids(config(), 10, 7);
  // Two mixtures that differ only in the last layer's weight must not share KV.
  std::vector<double> a = per_layer(0.5, 0.25), b = a;
  b.back() = -1.0;
  const std::vector<LoraMixture> mixtures = {
      layered({{"all", a}}), layered({{"all", b}}), mixture({{"all", 0.5}}), {}};
  std::vector<TokenRequest> requests;
  for (std::size_t i = 0; i < 8; ++i) {
    auto prompt = shared;
    const auto tail = ids(config(), 2 + i % 3, 40 + i);
    prompt.insert(prompt.end(), tail.begin(), tail.end());
    requests.push_back(greedy(prompt, mixtures[i % mixtures.size()], 5));
  }
  GenerationStats first_stats, second_stats;
  const auto first = reusing->generate(requests, {}, &first_stats);
  const auto second = reusing->generate(requests, {}, &second_stats);
  EXPECT_GT(first_stats.reused_tokens, 0);
  EXPECT_LT(second_stats.prompt_tokens, first_stats.prompt_tokens);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto expected = fresh->generate(std::span(&requests[i], 1))[0].tokens;
    EXPECT_EQ(first[i].tokens, expected) << i;
    EXPECT_EQ(second[i].tokens, expected) << i;
  }
}

TEST_P(LoraLayerWeights, TheAtenPathEqualsTheCpuKernels) {
  const auto adapters = three_adapters(config());
  const auto kernels = LlamaModel::from_tensors(config(), base(), cpu_options(adapters));
  const auto aten = LlamaModel::from_tensors(config(), base(), cpu_options(adapters, true));
  const auto prompt = ids(config(), 11, 8);
  const LoraMixture lora = layered({{"all", per_layer(1.0, -1.5)}}, {{"mlp", 0.7}});
  EXPECT_LT(
      max_difference(kernels->forward_logits(prompt, lora), aten->forward_logits(prompt, lora)),
      1e-4);
  const auto mixtures = mixed_mixtures(config());
  std::vector<TokenRequest> batch;
  for (std::size_t i = 0; i < mixtures.size(); ++i) {
    batch.push_back(greedy(ids(config(), 2 + i % 6, 600 + i), mixtures[i], 5));
  }
  GenerationOptions options;
  options.max_batch = 32;
  const auto a = kernels->generate(batch, options);
  const auto b = aten->generate(batch, options);
  for (std::size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(a[i].tokens, b[i].tokens) << i;
}

INSTANTIATE_TEST_SUITE_P(Shapes, LoraLayerWeights, ::testing::ValuesIn(shapes()),
                         [](const auto& shape) { return std::string(shape.param.name); });

TEST(LoraLayerWeightRefusals, NameTheAdapterAndWhatWasExpected) {
  const LlamaConfig config = testing::small_llama_config();
  ASSERT_EQ(config.num_hidden_layers, 2);
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7),
                                              cpu_options(three_adapters(config)));
  const auto prompt = ids(config, 5, 1);
  const LoraMixture three = layered({{"mlp", {1.0, 0.5, 0.25}}});
  const std::string wrong_count =
      "the LoRA mixture gives adapter 'mlp' 3 layer weights; expected one per layer, 2";
  EXPECT_EQ(message_of([&] { model->forward_logits(prompt, three); }),
            "forward_logits: " + wrong_count);
  const std::vector<TokenRequest> requests{greedy(prompt, three)};
  EXPECT_EQ(message_of([&] { model->generate(requests); }), "request 0: " + wrong_count);
  const std::vector<TokenScoreRequest> scores{{prompt, {prompt}, three}};
  EXPECT_EQ(message_of([&] { model->score(std::span<const TokenScoreRequest>(scores)); }),
            "score: " + wrong_count);
  const std::vector<std::vector<std::int32_t>> texts{prompt};
  EXPECT_EQ(message_of([&] { model->embed(texts, false, std::span(&three, 1)); }),
            "embed text 0: " + wrong_count);

  EXPECT_EQ(message_of([&] {
              model->forward_logits(prompt, layered({{"poetry", {1.0, 1.0}}}));
            }),
            "forward_logits: the LoRA mixture names adapter 'poetry', which is not loaded "
            "(loaded: all, attention, mlp)");
  EXPECT_EQ(message_of([&] {
              model->forward_logits(prompt, layered({{"mlp", {1.0, INFINITY}}}));
            }),
            "forward_logits: the LoRA mixture's weight for adapter 'mlp' in layer 1 is not a "
            "finite number");
  EXPECT_EQ(message_of([&] {
              model->forward_logits(prompt, layered({{"all", {1.0, 1.0}}}, {{"all", 0.5}}));
            }),
            "forward_logits: the LoRA mixture names adapter 'all' twice");
}

}  // namespace
}  // namespace qdgen::inference
