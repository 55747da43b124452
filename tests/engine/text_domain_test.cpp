// The text domain's pure pieces against hand computations (LMX prompts, QDAIF's parent
// weights and draws, mixture arithmetic, label posteriors, repetition and duplicate
// statistics) and its config keys' errors. The model-driven parts run end to end in
// tests/apps/text_run_test.cpp.
#include "text_domain.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "qdgen/common/json_reader.hpp"
#include "qdgen/engine/config.hpp"

namespace {

using namespace qdgen::engine::text;
using nlohmann::json;

TEST(TextLmx, PromptIsTemplateExampleSeparatorRepeatedThenTemplate) {
  const std::vector<std::string> examples = {"one", "two", "three"};
  EXPECT_EQ(lmx_prompt("Fortune:", examples, "\n###\n"),
            "Fortune:one\n###\nFortune:two\n###\nFortune:three\n###\nFortune:");
  EXPECT_EQ(lmx_prompt("T:", {}, "\n###\n"), "T:");  // zero-shot
}

TEST(TextLmx, FillTemplateReplacesEachKeyOnceLeftToRight) {
  EXPECT_EQ(fill_template("{text}\nTranslate this {genre} poem into a {tone} poem.",
                          {{"text", "a {genre} b"}, {"genre", "haiku"}, {"tone", "happy"}}),
            "a {genre} b\nTranslate this haiku poem into a happy poem.");
  EXPECT_EQ(fill_template("{unknown} {text}", {{"text", "x"}}), "{unknown} x");
}

TEST(TextLmx, NearWeightsAreOneOverOnePlusDistanceCubed) {
  const std::vector<std::vector<int>> cells = {{0, 0}, {1, 0}, {2, 2}, {0, 3}};
  const std::vector<double> w = near_weights(cells, {0, 0});
  ASSERT_EQ(w.size(), 4u);
  EXPECT_DOUBLE_EQ(w[0], 1.0);  // the parent cell itself
  EXPECT_DOUBLE_EQ(w[1], 0.5);
  EXPECT_NEAR(w[2], 1.0 / (1.0 + std::pow(std::sqrt(8.0), 3)), 1e-15);
  EXPECT_NEAR(w[3], 1.0 / 28.0, 1e-15);
}

TEST(TextLmx, DrawsWithoutReplacementFollowTheSequentialProbabilities) {
  const std::vector<double> weights = {1.0, 0.5, 0.25};
  Rng rng(11);
  std::map<std::vector<std::size_t>, int> counts;
  const int trials = 40000;
  for (int t = 0; t < trials; ++t) {
    const auto drawn = draw_without_replacement(weights, 2, rng);
    ASSERT_EQ(drawn.size(), 2u);
    ASSERT_NE(drawn[0], drawn[1]);
    ++counts[drawn];
  }
  // P(0 then 1) = (1 / 1.75) (0.5 / 0.75), P(2 then 1) = (0.25 / 1.75) (0.5 / 1.5).
  const double p01 = (1 / 1.75) * (0.5 / 0.75), p21 = (0.25 / 1.75) * (0.5 / 1.5);
  EXPECT_NEAR(double(counts[{0, 1}]) / trials, p01, 0.01);
  EXPECT_NEAR(double(counts[{2, 1}]) / trials, p21, 0.01);
  // Asking for more than there are gives all of them, each once.
  auto all = draw_without_replacement(weights, 5, rng);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::size_t>{0, 1, 2}));
  // Zero weights are never drawn.
  const std::vector<double> some = {0.0, 1.0, 0.0};
  EXPECT_EQ(draw_without_replacement(some, 3, rng), (std::vector<std::size_t>{1}));
}

TEST(TextMixture, SoftmaxIsTheLabelPosterior) {
  // A label judge's P(first label) from its two labels' log-probabilities.
  const std::vector<double> logprobs = {-1.0, -2.0};
  const auto p = softmax(logprobs);
  EXPECT_NEAR(p[0], std::exp(-1.0) / (std::exp(-1.0) + std::exp(-2.0)), 1e-15);
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-15);
  // Huge log-likelihoods (an expert judge's totals over a long text) do not overflow.
  const std::vector<double> totals = {-1000.0, -1001.0, -1003.0};
  const auto q = softmax(totals);
  EXPECT_NEAR(q[0], 1.0 / (1.0 + std::exp(-1.0) + std::exp(-3.0)), 1e-12);
}

TEST(TextMixture, GaussianStepOnLogitsAndCrossoverStayOnTheSimplex) {
  const std::vector<double> w = {0.5, 0.3, 0.2};
  Rng rng(3);
  const auto same = perturb_mixture(w, 0.0, rng);
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(same[i], w[i], 1e-12);
  const auto moved = perturb_mixture(w, 1.0, rng);
  EXPECT_NEAR(std::accumulate(moved.begin(), moved.end(), 0.0), 1.0, 1e-12);
  EXPECT_GT(std::abs(moved[0] - w[0]), 1e-6);
  // Crossing a mixture with itself gives it back; with another, a point between in logits.
  const auto self = cross_mixtures(w, w, rng);
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(self[i], w[i], 1e-12);
  const std::vector<double> a = {0.9, 0.1}, b = {0.1, 0.9};
  const auto c = cross_mixtures(a, b, rng);
  EXPECT_GE(c[0], 0.1 - 1e-12);
  EXPECT_LE(c[0], 0.9 + 1e-12);
  EXPECT_THROW(cross_mixtures(a, w, rng), std::invalid_argument);
  const auto init = initial_mixture(4, 1.0, rng);
  EXPECT_NEAR(std::accumulate(init.begin(), init.end(), 0.0), 1.0, 1e-12);
}

TEST(TextMixture, AboveOneTotalEachWeightMovesOnItsOwnAndOnlyTheSumIsCapped) {
  Rng rng(5);
  // sigma 0: the weights come back as they were, sum 0.6 (below the cap: not rescaled).
  const std::vector<double> w = {0.4, 0.2};
  const auto same = perturb_mixture(w, 0.0, rng, 3.0);
  EXPECT_NEAR(same[0], 0.4, 1e-12);
  EXPECT_NEAR(same[1], 0.2, 1e-12);
  // Weights summing to 6 are scaled down to the cap, keeping their ratio.
  const std::vector<double> big = {4.0, 2.0};
  const auto capped = perturb_mixture(big, 0.0, rng, 3.0);
  EXPECT_NEAR(capped[0], 2.0, 1e-12);
  EXPECT_NEAR(capped[1], 1.0, 1e-12);
  // Steps never exceed the cap; one step from a convex mixture may amplify or fade it.
  bool above_one = false, below_one = false;
  const std::vector<double> half = {0.5, 0.5};
  for (int step = 0; step < 200; ++step) {
    const auto child = perturb_mixture(half, 1.0, rng, 3.0);
    const double total = child[0] + child[1];
    EXPECT_LE(total, 3.0 + 1e-12);
    above_one |= total > 1.5;
    below_one |= total < 0.7;
  }
  EXPECT_TRUE(above_one);
  EXPECT_TRUE(below_one);
  // A crossover blends the logs without renormalising: geometric means of the weights.
  const std::vector<double> a = {2.0, 0.5}, b = {0.5, 2.0};
  const auto c = cross_mixtures(a, b, rng, 3.0);
  EXPECT_NEAR(std::log(c[0]) + std::log(c[1]), std::log(2.0 * 0.5), 1e-12);
  // Initial mixtures: a convex mixture's scale at sigma 0, amplified or faded at random else.
  const auto flat = initial_mixture(4, 0.0, rng, 3.0);
  for (const double v : flat) EXPECT_NEAR(v, 0.25, 1e-12);
  bool amplified = false, faded = false;
  for (int draw = 0; draw < 200; ++draw) {
    const auto init = initial_mixture(4, 1.0, rng, 3.0);
    const double total = std::accumulate(init.begin(), init.end(), 0.0);
    EXPECT_LE(total, 3.0 + 1e-12);
    amplified |= total > 1.5;
    faded |= total < 0.9;
  }
  EXPECT_TRUE(amplified);
  EXPECT_TRUE(faded);
}

TEST(TextPenalties, RepeatedNgramsAndOverlap) {
  // Bigrams of "a b a b a b": ab ba ab ba ab; three repeat an earlier one.
  EXPECT_DOUBLE_EQ(repeated_ngram_fraction("a b a b a b", 2), 0.6);
  EXPECT_DOUBLE_EQ(repeated_ngram_fraction("One two three four", 2), 0.0);
  EXPECT_DOUBLE_EQ(repeated_ngram_fraction("", 3), 0.0);
  // Word n-grams, case-folded: {the cat, cat sat} vs {the cat, cat ran, ran off}.
  EXPECT_DOUBLE_EQ(ngram_overlap("The cat sat", "the cat ran off", 2), 0.5);
  EXPECT_DOUBLE_EQ(ngram_overlap("the cat sat", "the cat sat", 2), 1.0);
  EXPECT_DOUBLE_EQ(ngram_overlap("cat", "the cat sat", 2), 0.0);
  EXPECT_TRUE(is_blank(" \n\t"));
  EXPECT_TRUE(is_blank(""));
  EXPECT_FALSE(is_blank(" a "));
  EXPECT_EQ(words("  Hello,   World \n"), (std::vector<std::string>{"hello,", "world"}));
}

Eigen::VectorXf vec(std::initializer_list<float> values) {
  Eigen::VectorXf v(Eigen::Index(values.size()));
  Eigen::Index i = 0;
  for (const float x : values) v[i++] = x;
  return v;
}

TEST(TextNovelty, OneMinusTheMeanCosineToTheNearestOthers) {
  // (1,0) twice, (0,1) and (1,1): cosines 1 (the pair), 0 and 1/sqrt(2).
  const std::vector<Eigen::VectorXf> e = {vec({1, 0}), vec({3, 0}), vec({0, 2}), vec({1, 1})};
  const double r = 1 / std::sqrt(2.0);
  std::vector<double> one = embedding_novelty(e, 1);
  ASSERT_EQ(one.size(), 4u);
  EXPECT_DOUBLE_EQ(one[0], kMinNovelty);  // its copy (at another scale) is a cosine of 1
  EXPECT_DOUBLE_EQ(one[1], kMinNovelty);
  EXPECT_NEAR(one[2], 1 - r, 1e-12);
  EXPECT_NEAR(one[3], 1 - r, 1e-12);
  const std::vector<double> two = embedding_novelty(e, 2);
  EXPECT_NEAR(two[0], 1 - (1 + r) / 2, 1e-12);
  EXPECT_NEAR(two[2], 1 - (r + 0) / 2, 1e-12);
  EXPECT_NEAR(two[3], 1 - (r + r) / 2, 1e-12);
  // More neighbours than others: all of them.
  EXPECT_EQ(embedding_novelty(e, 10), embedding_novelty(e, 3));
  EXPECT_NEAR(embedding_novelty(e, 3)[2], 1 - (0 + 0 + r) / 3, 1e-12);
  // A zero or non-finite embedding counts as a copy of every other, never as the most novel.
  const std::vector<Eigen::VectorXf> odd = {vec({0, 0}), vec({NAN, 1}), vec({1, 0}), vec({0, 1})};
  const std::vector<double> guarded = embedding_novelty(odd, 1);
  EXPECT_DOUBLE_EQ(guarded[0], kMinNovelty);
  EXPECT_DOUBLE_EQ(guarded[1], kMinNovelty);
  EXPECT_DOUBLE_EQ(guarded[2], kMinNovelty);  // its nearest "other" is a degenerate one
  EXPECT_TRUE(embedding_novelty(std::vector<Eigen::VectorXf>{vec({1, 0})}, 3).empty());
  EXPECT_THROW(embedding_novelty(std::vector<Eigen::VectorXf>{vec({1, 0}), vec({1, 0, 0})}, 1),
               std::invalid_argument);
}

json text_config() {
  return json::parse(R"({
    "domain": {"kind": "text", "template": "Fortune:", "seeds": ["a b c", "d e f"],
               "experts": ["poetry", "science"],
               "operators": {"mixture": {"sigma": 0.3, "crossover": 0.25}},
               "quality": {"kind": "fluency"},
               "measures": [{"kind": "experts", "experts": ["poetry", "science"]},
                            {"kind": "label", "instruction": "Happy?", "labels": [" yes", " no"]}]},
    "archive": {"type": "grid", "dims": [{"range": [0, 1], "cells": 4},
                                          {"range": [0, 1], "cells": 4}]},
    "emitters": [{"kind": "mutation", "parents": 0, "batch": 4,
                  "operators": {"lmx_near": 3, "mixture": 1}}],
    "model": {"path": "/nowhere", "adapters": {"poetry": "/a", "science": "/b"}},
    "iterations": 3
  })");
}

std::string error_of(const json& config) {
  try {
    qdgen::engine::parse_experiment_config(config, "x.json");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(TextConfig, ParsesMeasuresOperatorsAndModel) {
  const auto config = qdgen::engine::parse_experiment_config(text_config(), "x.json");
  EXPECT_EQ(config.domain->kind(), "text");
  EXPECT_EQ(config.domain->measure_dim(), 2);
  EXPECT_TRUE(config.domain->needs_model());
  ASSERT_TRUE(config.model.has_value());
  EXPECT_EQ(config.model->adapters.size(), 2u);
  const auto ops = config.domain->mutation_operators();
  EXPECT_NE(std::find(ops.begin(), ops.end(), "mixture"), ops.end());
}

TEST(TextConfig, ErrorsNameTheKey) {
  json c = text_config();
  c["domain"].erase("experts");
  EXPECT_EQ(error_of(c),
            "x.json: domain.operators.mixture: the mixture operator needs \"experts\" (the LoRA "
            "adapters it mixes)");
  c = text_config();
  c["domain"]["operators"]["swap"] = json::object();
  EXPECT_EQ(error_of(c),
            "x.json: domain.operators.swap: not an operator (expected lmx_near, lmx_random, "
            "lmx_quality, lmx_replace, rewrite, mixture or fixed_few_shot)");
  c = text_config();
  c["emitters"][0]["operators"] = {{"rewrite", 1}};
  EXPECT_EQ(error_of(c),
            "x.json: emitters[0].operators.rewrite: not an operator of domain 'text' (expected "
            "one of \"fixed_few_shot\", \"lmx_near\", \"lmx_quality\", \"lmx_random\", "
            "\"lmx_replace\", \"mixture\")");
  c = text_config();
  c["domain"]["measures"][0]["experts"] = {"poetry"};
  EXPECT_NE(error_of(c).find("domain.measures[0].experts: expected an array of at least 2 LoRA "
                             "expert names"),
            std::string::npos);
  c = text_config();
  c["domain"]["operators"]["lmx_near"] = {{"shots", 2}, {"seed_shots", 3}};
  EXPECT_NE(error_of(c).find("domain.operators.lmx_near.seed_shots: expected an integer in [0, 2]"),
            std::string::npos)
      << error_of(c);
  c = text_config();
  c["domain"]["operators"]["mixture"]["seed_shots"] = 3;
  EXPECT_EQ(error_of(c),
            "x.json: domain.operators.mixture.seed_shots: is 3 but the domain has 2 \"seeds\" "
            "to draw them from");
  c = text_config();
  c["domain"]["operators"]["mixture"]["examples"] = "seeds";
  c["domain"]["operators"]["mixture"]["parent"] = "novel";
  EXPECT_EQ(error_of(c),
            "x.json: domain.operators.mixture.parent: applies to \"examples\": \"near\" only "
            "(this one is \"seeds\")");
  c = text_config();
  c["domain"]["operators"]["lmx_near"] = {{"parent", "novel"}};
  EXPECT_EQ(error_of(c),
            "x.json: domain.operators.lmx_near.parent: is \"novel\" but \"embeddings\" is off "
            "(set it true)");
  c["domain"]["embeddings"] = true;
  EXPECT_EQ(error_of(c), "");
  c = text_config();
  c["domain"]["operators"]["lmx_near"] = {{"parent", "far"}};
  EXPECT_NE(error_of(c).find("domain.operators.lmx_near.parent"), std::string::npos) << error_of(c);
  c = text_config();
  c["domain"]["operators"]["lmx_random"] = {{"seed_shots", 1}};
  EXPECT_NE(error_of(c).find("domain.operators.lmx_random.seed_shots"), std::string::npos)
      << error_of(c);
  c = text_config();
  c["domain"]["mixture_max_total"] = 0.5;
  EXPECT_NE(error_of(c).find("domain.mixture_max_total: expected a number in [1, 100]"),
            std::string::npos)
      << error_of(c);
  c = text_config();
  c["archive"]["dims"].erase(1);
  EXPECT_NE(error_of(c).find("measure dimensions, domain 'text' has 2"), std::string::npos);
  c = text_config();
  c["domain"] = {{"kind", "sphere"}, {"dim", 4}};
  c["emitters"] = json::parse(R"([{"kind": "gaussian", "sigma": 0.1}])");
  EXPECT_EQ(error_of(c), "x.json: model: domain 'sphere' uses no language model");
}

}  // namespace
