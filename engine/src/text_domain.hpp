#pragma once
// The "text" domain (QDAIF, Bradley et al. 2024): solutions are texts a language model
// writes from few-shot prompts of elites (LMX) and judges by AI feedback. This header holds
// its options and the pure pieces the operators and judges are made of, so tests can check
// each against a hand computation.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qdgen/archive/elite.hpp"
#include "qdgen/engine/domain.hpp"

namespace qdgen::engine::text {

using archive::Rng;

struct GenerationOptions {
  std::int64_t max_tokens = 50;
  double temperature = 0.8;
  double top_p = 0.95;
  std::int64_t top_k = 0;
  std::vector<std::string> stop = {"\n", "###"};
};

// LMX (QDAIF's default): "near" draws the examples by bin distance from a random filled
// cell; "random" uniformly; "quality" uniformly from the best elites; "fixed" always the
// first seeds (Fixed-Few-Shot); "init" from the seeds; "replace" a parent's own examples with
// one position swapped for a text of the prompt pool (the seeds and the best elites). Rewrite: an
// instruction with {text} and random targets. Mixture: the parent's LoRA mixture perturbed (or
// crossed), written by LMX.
struct OperatorOptions {
  int shots = 3;
  double sigma = 0.5;      // mixture: Gaussian step on the weights' logits
  double crossover = 0.0;  // mixture: probability of a crossover of two parents
  // mixture: where the child's examples come from: "near" (LMX near, the parent cell's
  // neighbourhood) or "seeds" (drawn uniformly from the seed texts, so only the mixture is
  // inherited and the elites' wording is not bred into the child).
  std::string examples = "near";
  // lmx_near, mixture (examples "near"): how many of the shots are seed texts (drawn
  // uniformly, put before the elites), so every prompt shows a real text's form beside the
  // neighbourhood's elites.
  int seed_shots = 0;
  // lmx_near, mixture: "parent": "novel" draws the parent cell with weight 1 - the elite's
  // mean embedding cosine to its 3 nearest elites (children of the elites least like the
  // others; needs embeddings); "uniform" (QDAIF) leaves this false.
  bool novel_parent = false;
  std::string rewrite_template;  // rewrite: "{text}" and "{<target>}" placeholders
  std::map<std::string, std::vector<std::string>> targets;  // rewrite: drawn uniformly
  int quality_pool = 100;  // quality, replace: the best elites the examples come from
};

// A judge axis. "label": the log-probability of each whole label string after the
// instruction prompt, softmax over the labels, value = P(first label). "experts": the
// posterior of the first of the chosen LoRA experts given the text (softmax of their total
// log-likelihoods). "fluency": exp(mean token log-probability under the base model).
struct JudgeOptions {
  std::string kind;  // "label", "experts", "fluency"
  std::string instruction;
  std::vector<std::string> labels;
  std::vector<std::string> experts;
  // label: the measure is the index of the most probable label plus 0.5 (a categorical axis
  // for a grid of range [0, labels] with one cell per label: QDAIF's poetry genres and tones).
  bool argmax = false;
};

struct PenaltyOptions {
  int repetition_ngram = 3;        // word n-grams counted for repetition
  double repetition_weight = 0.0;  // quality *= 1 - weight * repeated fraction
  int min_words = 1;               // fewer: rejected ("too_short")
  int max_words = 1000000;         // more: rejected ("too_long")
};

struct DuplicateOptions {
  bool enabled = false;
  int ngram = 3;
  double threshold = 0.8;  // overlap at or above: rejected ("duplicate")
  // Cosine of the child's embedding to a neighbouring elite's at or above: rejected too
  // (needs embeddings; unset: the n-gram test alone).
  std::optional<double> embedding_threshold;
  // Whether the child's own cell's elite counts (false: only its neighbours' do, so a child
  // may still replace a similar but worse elite in its own cell).
  bool own_cell = true;
};

struct TextDomainOptions {
  int measures = 0;
  std::vector<std::string> seeds;
  std::string prompt_template;  // T, put before every example and at the end
  std::string separator = "\n###\n";
  std::string judge_template =
      "### Instruction:\n{instruction}\n\n### Input:\n{text}\n\n### Response:";
  std::string likelihood_prompt;     // what fluency and experts score the text after
  std::int64_t init_iterations = 1;  // iterations written from the seeds (QDAIF: 50)
  int init_min_filled = 3;           // and while fewer cells are filled
  GenerationOptions generation;
  std::map<std::string, OperatorOptions> operators;  // those the config enables
  std::string default_operator = "lmx_near";
  std::vector<std::string> experts;  // the LoRA experts mixtures are over (empty: none)
  double init_sigma = 1.0;           // initial mixtures: softmax of N(0, init_sigma) logits
  // 1 keeps every mixture convex (weights sum to 1); above 1 each weight moves on its own and
  // only their sum is capped, so a mixture may amplify an expert or fade toward the base.
  double mixture_max_total = 1.0;
  std::optional<JudgeOptions> quality;
  std::vector<JudgeOptions> measure_judges;
  PenaltyOptions penalties;
  DuplicateOptions duplicates;
  bool embeddings = false;
  std::vector<double> vendi_orders = {1.0};
  int vendi_ngram = 2;
};

// T + e1 + SEP + T + e2 + SEP + ... + T (QDAIF: no space after T).
std::string lmx_prompt(const std::string& prompt_template, std::span<const std::string> examples,
                       const std::string& separator);
// `pattern` with every "{key}" replaced by its value.
std::string fill_template(std::string pattern,
                          const std::vector<std::pair<std::string, std::string>>& values);

// QDAIF's weights of each filled cell (by grid coordinates) for a parent cell: 1 / (1 + d^3),
// d the Euclidean distance in bin indices (the parent's own cell weighs 1).
std::vector<double> near_weights(const std::vector<std::vector<int>>& cells,
                                 const std::vector<int>& parent);
// k distinct indices drawn one after another with probability proportional to the weights
// of those left (numpy's choice without replacement); all of them when k >= n.
std::vector<std::size_t> draw_without_replacement(std::span<const double> weights, std::size_t k,
                                                  Rng& rng);

// Each text's novelty among the others: 1 - the mean cosine of its embedding to its
// `neighbours` most similar ones', floored at kMinNovelty so that every text may be drawn
// (a duplicate scores 0 before the floor, a text orthogonal to all others 1). Empty for fewer
// than 2 embeddings.
inline constexpr double kMinNovelty = 1e-6;
std::vector<double> embedding_novelty(std::span<const Eigen::VectorXf> embeddings,
                                      std::size_t neighbours);

std::vector<double> softmax(std::span<const double> logits);
// A child's mixture from log w + N(0, sigma): with max_total 1 its softmax (convex); above 1
// its exponential, scaled down to sum to max_total when it sums to more.
std::vector<double> perturb_mixture(std::span<const double> weights, double sigma, Rng& rng,
                                    double max_total = 1.0);
// A crossover: a random blend a·log w1 + (1 - a)·log w2, a ~ U(0, 1), mapped back to weights
// as perturb_mixture does.
std::vector<double> cross_mixtures(std::span<const double> first, std::span<const double> second,
                                   Rng& rng, double max_total = 1.0);
// With max_total 1 the softmax of N(0, sigma) logits; above 1 exp(logit) / experts per weight
// (a convex mixture's scale, amplified or faded at random), the sum capped at max_total.
std::vector<double> initial_mixture(std::size_t experts, double sigma, Rng& rng,
                                    double max_total = 1.0);

std::vector<std::string> words(const std::string& text);
// The fraction of the text's word n-grams that repeat an earlier one (0 for fewer than n+1).
double repeated_ngram_fraction(const std::string& text, int n);
// |A ∩ B| / min(|A|, |B|) of the two texts' sets of word n-grams (0 when either has none).
double ngram_overlap(const std::string& a, const std::string& b, int n);
// Whether the text is nothing but white space.
bool is_blank(const std::string& text);

// The "domain" section's parser (text_domain_spec.cpp) and the domain (text_domain.cpp).
std::unique_ptr<Domain> make_text_domain(const TextDomainOptions& options);

}  // namespace qdgen::engine::text
