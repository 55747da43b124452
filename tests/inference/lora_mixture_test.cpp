// LoRA experts applied unmerged, with a mixture of its own for every request (issue 13): the
// equivalences that pin the per-row forward pass down (B = 0 is the base, a one-hot mixture
// is that adapter alone, unmerged equals merged, a batch of mixtures equals each alone, prefix
// reuse equals none, the ATen path equals the CPU kernels) and the refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lora_test_models.hpp"
#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/model.hpp"
#include "random_lora.hpp"
#include "random_weights.hpp"
#include "scratch_directory.hpp"

namespace qdgen::inference {
namespace {

using testing::all_lora_targets;
using testing::random_lora_adapter;
using namespace lora_test;

class LoraMixtures : public ::testing::TestWithParam<Shape> {
 protected:
  const LlamaConfig& config() const { return GetParam().config; }
  std::vector<OwnedTensor> base() const { return testing::random_llama_weights(config(), 7); }
};

TEST_P(LoraMixtures, ZeroBGivesTheBaseLogits) {
  LoraAdapter zero = random_lora_adapter(config(), "zero", all_lora_targets(), 4, 8.0, 3);
  for (LoraModule& m : zero.modules) std::fill(m.b.begin(), m.b.end(), 0.0f);
  const auto plain = LlamaModel::from_tensors(config(), base(), cpu_options());
  const auto with = LlamaModel::from_tensors(config(), base(), cpu_options({zero}));
  const auto prompt = ids(config(), 12, 1);
  EXPECT_EQ(with->forward_logits(prompt, mixture({{"zero", 1.0}})), plain->forward_logits(prompt));
  EXPECT_EQ(with->forward_logits(prompt), plain->forward_logits(prompt));
}

TEST_P(LoraMixtures, AOneHotMixtureGivesThatAdapterAlone) {
  const auto adapters = three_adapters(config());
  const auto all = LlamaModel::from_tensors(config(), base(), cpu_options(adapters));
  const auto prompt = ids(config(), 10, 2);
  for (const LoraAdapter& adapter : adapters) {
    const auto alone = LlamaModel::from_tensors(config(), base(), cpu_options({adapter}));
    const LoraMixture one_hot = mixture({{adapter.name, 1.0}});
    EXPECT_LT(max_difference(all->forward_logits(prompt, one_hot),
                             alone->forward_logits(prompt, one_hot)),
              1e-6)
        << adapter.name;
  }
}

TEST_P(LoraMixtures, UnmergedEqualsMergedForOneAdapterAndForAMixture) {
  const auto adapters = three_adapters(config());
  const auto model = LlamaModel::from_tensors(config(), base(), cpu_options(adapters));
  const auto prompt = ids(config(), 14, 3);
  struct Case {
    std::vector<const LoraAdapter*> merge;
    std::vector<double> weights;
    LoraMixture lora;
  };
  const std::vector<Case> cases = {{{&adapters[0]}, {1.0}, mixture({{"all", 1.0}})},
                                   {{&adapters[0], &adapters[1], &adapters[2]},
                                    {0.3, -0.7, 1.5},
                                    mixture({{"mlp", 1.5}, {"all", 0.3}, {"attention", -0.7}})}};
  for (const Case& c : cases) {
    const auto merged_model = LlamaModel::from_tensors(
        config(), merged(config(), base(), c.merge, c.weights), cpu_options());
    EXPECT_LT(
        max_difference(model->forward_logits(prompt, c.lora), merged_model->forward_logits(prompt)),
        1e-4);
    const std::vector<TokenRequest> unmerged_request{greedy(prompt, c.lora, 12)};
    const std::vector<TokenRequest> merged_request{greedy(prompt, {}, 12)};
    EXPECT_EQ(model->generate(unmerged_request)[0].tokens,
              merged_model->generate(merged_request)[0].tokens);
  }
}

// PEFT's scale per module: alpha / r, or alpha / sqrt(r) with rsLoRA, where r and alpha come
// from rank_pattern / alpha_pattern when a pattern names the module. Checked against weights
// merged here by that formula, not by merge_lora_adapters.
TEST_P(LoraMixtures, RsLoraRankAndAlphaPatternsScaleAsPeft) {
  for (const bool rslora : {false, true}) {
    LoraAdapter adapter =
        random_lora_adapter(config(), "patterned", all_lora_targets(), 4, 8.0, 21, rslora);
    // Layer 1's v_proj at rank 2 (rank_pattern), every down_proj with alpha 3 (alpha_pattern).
    for (LoraModule& m : adapter.modules) {
      if (m.layer == 1 && m.target == LoraTarget::kV) {
        m.rank = 2;
        m.a.resize(static_cast<std::size_t>(2 * config().hidden_size));
        m.b.resize(static_cast<std::size_t>(lora_target_out_features(config(), m.target) * 2));
        std::mt19937_64 random(5);
        std::uniform_real_distribution<float> uniform(-0.3f, 0.3f);
        for (float& v : m.a) v = uniform(random);
        for (float& v : m.b) v = uniform(random);
      }
      if (m.target == LoraTarget::kDown) m.alpha = 3.0;
      m.scale =
          m.alpha / (rslora ? std::sqrt(static_cast<double>(m.rank)) : static_cast<double>(m.rank));
    }
    qdgen_test::ScratchDirectory scratch;
    write_peft_adapter(scratch.path() / "patterned", adapter);
    ModelOptions options = cpu_options();
    options.adapter_folders = {{"", scratch.path() / "patterned"}};
    const auto model = LlamaModel::from_tensors(config(), base(), options);
    ASSERT_EQ(model->adapter_names(), std::vector<std::string>{"patterned"});

    std::vector<OwnedTensor> tensors = base();
    for (const LoraModule& m : adapter.modules) {
      const std::string name =
          "model.layers." + std::to_string(m.layer) + "." + lora_target_path(m.target) + ".weight";
      const double peft_scale =
          (m.target == LoraTarget::kDown ? 3.0 : 8.0) /
          (rslora ? std::sqrt(static_cast<double>(m.rank)) : static_cast<double>(m.rank));
      const std::int64_t in = lora_target_in_features(config(), m.target);
      const std::int64_t out = lora_target_out_features(config(), m.target);
      for (OwnedTensor& t : tensors) {
        if (t.name != name) continue;
        for (std::int64_t o = 0; o < out; ++o) {
          for (std::int64_t i = 0; i < in; ++i) {
            double sum = 0;
            for (std::int64_t k = 0; k < m.rank; ++k) sum += m.b[o * m.rank + k] * m.a[k * in + i];
            t.data[o * in + i] += static_cast<float>(peft_scale * sum);
          }
        }
      }
    }
    const auto reference = LlamaModel::from_tensors(config(), tensors, cpu_options());
    const auto prompt = ids(config(), 9, 4);
    EXPECT_LT(max_difference(model->forward_logits(prompt, mixture({{"patterned", 1.0}})),
                             reference->forward_logits(prompt)),
              1e-4)
        << "rslora " << rslora;
  }
}

std::vector<LoraMixture> thirty_two_mixtures() {
  std::mt19937_64 random(99);
  std::uniform_real_distribution<double> weight(-1.0, 1.5);
  std::vector<LoraMixture> mixtures;
  for (int i = 0; i < 32; ++i) {
    if (i % 8 == 0) {
      mixtures.push_back({});  // the base model, in the same batch
    } else if (i % 8 == 1) {
      mixtures.push_back(mixture({{"attention", weight(random)}}));
    } else {
      mixtures.push_back(mixture(
          {{"all", weight(random)}, {"attention", weight(random)}, {"mlp", weight(random)}}));
    }
  }
  return mixtures;
}

TEST_P(LoraMixtures, ABatchOf32MixturesGivesRowByRowWhatEachGivesAlone) {
  const auto model =
      LlamaModel::from_tensors(config(), base(), cpu_options(three_adapters(config())));
  const auto mixtures = thirty_two_mixtures();
  std::vector<TokenRequest> batch;
  std::vector<TokenScoreRequest> scores;
  for (std::size_t i = 0; i < mixtures.size(); ++i) {
    batch.push_back(greedy(ids(config(), 3 + i % 5, 100 + i), mixtures[i], 6));
    scores.push_back({ids(config(), 4 + i % 3, 200 + i),
                      {ids(config(), 3, 300 + i), ids(config(), 1 + i % 4, 400 + i)},
                      mixtures[i]});
  }
  GenerationOptions options;
  options.max_batch = 32;
  const auto together = model->generate(batch, options);
  const auto scored = model->score(std::span<const TokenScoreRequest>(scores));
  for (std::size_t i = 0; i < mixtures.size(); ++i) {
    EXPECT_EQ(together[i].tokens, model->generate(std::span(&batch[i], 1))[0].tokens) << i;
    const auto alone = model->score(std::span<const TokenScoreRequest>(&scores[i], 1))[0];
    for (std::size_t c = 0; c < alone.size(); ++c) {
      EXPECT_NEAR(scored[i][c], alone[c], 1e-9) << i << " " << c;
    }
  }
  // Embeddings too, and a mixture changes them.
  std::vector<std::vector<std::int32_t>> texts;
  for (std::size_t i = 0; i < mixtures.size(); ++i) texts.push_back(ids(config(), 5, 500 + i));
  const auto embedded = model->embed(texts, false, mixtures);
  for (std::size_t i = 0; i < mixtures.size(); ++i) {
    const auto alone = model->embed(std::span(&texts[i], 1), false, std::span(&mixtures[i], 1));
    EXPECT_LT(max_difference(embedded[i], alone[0]), 1e-6) << i;
  }
  const auto base_vectors = model->embed(std::span(&texts[2], 1));
  EXPECT_GT(max_difference(embedded[2], base_vectors[0]), 1e-3);
}

TEST_P(LoraMixtures, PrefixReuseWithMixturesEqualsNoReuse) {
  const auto adapters = three_adapters(config());
  const auto reusing = LlamaModel::from_tensors(config(), base(), cpu_options(adapters));
  ModelOptions none = cpu_options(adapters);
  none.prefix_cache_bytes = 0;
  const auto fresh = LlamaModel::from_tensors(config(), base(), none);
  const auto shared = ids(config(), 10, 7);
  std::vector<TokenRequest> requests;
  const std::vector<LoraMixture> mixtures = {
      {}, mixture({{"all", 0.5}}), mixture({{"all", 0.5}}), mixture({{"mlp", -1.0}, {"all", 1.0}})};
  for (std::size_t i = 0; i < 8; ++i) {
    auto prompt = shared;
    const auto tail = ids(config(), 2 + i % 3, 40 + i);
    prompt.insert(prompt.end(), tail.begin(), tail.end());
    requests.push_back(greedy(prompt, mixtures[i % mixtures.size()], 5));
  }
  GenerationStats first_stats, second_stats;
  const auto first = reusing->generate(requests, {}, &first_stats);
  const auto second = reusing->generate(requests, {}, &second_stats);  // from kept prefixes
  EXPECT_GT(first_stats.reused_tokens, 0);
  EXPECT_LT(second_stats.prompt_tokens, first_stats.prompt_tokens);  // kept prefixes served
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto expected = fresh->generate(std::span(&requests[i], 1))[0].tokens;
    EXPECT_EQ(first[i].tokens, expected) << i;
    EXPECT_EQ(second[i].tokens, expected) << i;
  }
}

TEST_P(LoraMixtures, TheAtenPathEqualsTheCpuKernels) {
  const auto adapters = three_adapters(config());
  const auto kernels = LlamaModel::from_tensors(config(), base(), cpu_options(adapters));
  const auto aten = LlamaModel::from_tensors(config(), base(), cpu_options(adapters, true));
  const auto prompt = ids(config(), 11, 8);
  const LoraMixture lora = mixture({{"attention", 0.8}, {"mlp", -0.4}, {"all", 1.2}});
  EXPECT_LT(
      max_difference(kernels->forward_logits(prompt, lora), aten->forward_logits(prompt, lora)),
      1e-4);
  const auto mixtures = thirty_two_mixtures();
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

INSTANTIATE_TEST_SUITE_P(Shapes, LoraMixtures, ::testing::ValuesIn(shapes()),
                         [](const auto& shape) { return std::string(shape.param.name); });

TEST(LoraAdapters, SixteenOfDifferentRanksAndTargetsMixAsMerged) {
  const LlamaConfig config = testing::small_llama_config();
  std::vector<LoraAdapter> adapters;
  std::vector<const LoraAdapter*> merge;
  std::vector<double> weights;
  LoraMixture lora;
  const auto& targets = all_lora_targets();
  for (int i = 0; i < 16; ++i) {
    std::vector<LoraTarget> some;
    for (std::size_t t = 0; t < targets.size(); ++t) {
      if ((i + static_cast<int>(t)) % 3 != 0) some.push_back(targets[t]);
    }
    adapters.push_back(random_lora_adapter(config, "expert" + std::to_string(i), some, 1 + i % 5,
                                           2.0 + i, 700 + i, i % 2 == 1));
    weights.push_back(0.1 * (i % 7) - 0.25);
    lora.adapters.emplace_back(adapters.back().name, weights.back());
  }
  for (const LoraAdapter& a : adapters) merge.push_back(&a);
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7),
                                              cpu_options(adapters));
  EXPECT_EQ(model->adapter_names().size(), 16u);
  const auto reference = LlamaModel::from_tensors(
      config, merged(config, testing::random_llama_weights(config, 7), merge, weights),
      cpu_options());
  const auto prompt = ids(config, 13, 9);
  EXPECT_LT(max_difference(model->forward_logits(prompt, lora), reference->forward_logits(prompt)),
            1e-4);
}

TEST(LoraAdapters, APeftFolderRoundTripGivesTheSameOutputsAsTheAdapterInMemory) {
  const LlamaConfig config = testing::small_llama_config();
  const LoraAdapter adapter = random_lora_adapter(config, "style", all_lora_targets(), 4, 8.0, 5);
  qdgen_test::ScratchDirectory scratch;
  write_peft_adapter(scratch.path() / "style", adapter);
  const LoraAdapter back = read_peft_adapter(scratch.path() / "style", config, "style");
  ASSERT_EQ(back.modules.size(), adapter.modules.size());
  for (std::size_t i = 0; i < back.modules.size(); ++i) {
    EXPECT_EQ(back.modules[i].a, adapter.modules[i].a);
    EXPECT_EQ(back.modules[i].b, adapter.modules[i].b);
    EXPECT_EQ(back.modules[i].scale, adapter.modules[i].scale);
  }
  ModelOptions from_folder = cpu_options();
  from_folder.adapter_folders = {{"", scratch.path() / "style/"}};  // named after its folder
  const auto a =
      LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7), from_folder);
  const auto b = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7),
                                          cpu_options({adapter}));
  const auto prompt = ids(config, 8, 10);
  const LoraMixture lora = mixture({{"style", 0.6}});
  EXPECT_EQ(a->forward_logits(prompt, lora), b->forward_logits(prompt, lora));
}

TEST(LoraAdapters, RefusalsNameTheAdapterAndTheRequest) {
  const LlamaConfig config = testing::small_llama_config();
  const auto model = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7),
                                              cpu_options(three_adapters(config)));
  const LoraMixture unknown = mixture({{"all", 1.0}, {"poetry", 0.5}});
  const std::string not_loaded =
      "the LoRA mixture names adapter 'poetry', which is not loaded (loaded: all, attention, mlp)";
  const auto prompt = ids(config, 5, 1);
  std::vector<TokenRequest> requests{greedy(prompt, {}), greedy(prompt, unknown)};
  EXPECT_EQ(message_of([&] { model->generate(requests); }), "request 1: " + not_loaded);
  const std::vector<TokenScoreRequest> scores{{prompt, {prompt}, unknown}};
  EXPECT_EQ(message_of([&] { model->score(std::span<const TokenScoreRequest>(scores)); }),
            "score: " + not_loaded);
  const std::vector<std::vector<std::int32_t>> texts{prompt};
  EXPECT_EQ(message_of([&] { model->embed(texts, false, std::span(&unknown, 1)); }),
            "embed text 0: " + not_loaded);
  EXPECT_EQ(message_of([&] { model->forward_logits(prompt, unknown); }),
            "forward_logits: " + not_loaded);
  EXPECT_EQ(message_of([&] {
              model->forward_logits(prompt, mixture({{"all", 1}, {"all", 2}}));
            }),
            "forward_logits: the LoRA mixture names adapter 'all' twice");
  EXPECT_EQ(message_of([&] {
              model->forward_logits(prompt, mixture({{"mlp", NAN}}));
            }),
            "forward_logits: the LoRA mixture's weight for adapter 'mlp' is not a finite number");

  // A model without adapters refuses any mixture.
  const auto plain =
      LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7), cpu_options());
  EXPECT_EQ(message_of([&] {
              plain->forward_logits(prompt, mixture({{"all", 1}}));
            }),
            "forward_logits: the LoRA mixture names adapter 'all', which is not loaded (the "
            "model has no adapters)");

  // Adapters that do not fit: two of one name, a module of another base's shape.
  const auto adapters = three_adapters(config);
  EXPECT_EQ(message_of([&] {
              LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7),
                                       cpu_options({adapters[0], adapters[0]}));
            }),
            "two LoRA adapters are named 'all'");
  LlamaConfig other = config;
  other.hidden_size = 48;
  other.head_dim = 12;
  EXPECT_EQ(message_of([&] {
              LlamaModel::from_tensors(
                  config, testing::random_llama_weights(config, 7),
                  cpu_options({random_lora_adapter(other, "other", {LoraTarget::kQ}, 2, 2.0, 1)}));
            }),
            "adapter 'other': layer 0 q_proj: A holds 96 values and B 96 at rank 2, expected [2, "
            "64] and [64, 2]");
  // From a folder, the reader names the file and both shapes.
  qdgen_test::ScratchDirectory scratch;
  write_peft_adapter(scratch.path() / "other",
                     random_lora_adapter(other, "other", {LoraTarget::kQ}, 2, 2.0, 1));
  ModelOptions options = cpu_options();
  options.adapter_folders = {{"other", scratch.path() / "other"}};
  const std::string folder_message = message_of(
      [&] { LlamaModel::from_tensors(config, testing::random_llama_weights(config, 7), options); });
  EXPECT_NE(folder_message.find((scratch.path() / "other").string()), std::string::npos)
      << folder_message;
  EXPECT_NE(folder_message.find("[2, 48]"), std::string::npos) << folder_message;
}

}  // namespace
}  // namespace qdgen::inference
