// The pure pieces of the text domain's operators: prompts, QDAIF's parent weights, draws
// without replacement, LoRA mixture arithmetic and word n-gram statistics.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>

#include "text_domain.hpp"

namespace qdgen::engine::text {

std::string lmx_prompt(const std::string& prompt_template, std::span<const std::string> examples,
                       const std::string& separator) {
  std::string prompt;
  for (const std::string& example : examples) prompt += prompt_template + example + separator;
  return prompt + prompt_template;
}

std::string fill_template(std::string pattern,
                          const std::vector<std::pair<std::string, std::string>>& values) {
  // One pass left to right, so a value that contains "{key}" is never expanded again.
  std::string out;
  std::size_t at = 0;
  while (at < pattern.size()) {
    bool replaced = false;
    if (pattern[at] == '{')
      for (const auto& [key, value] : values) {
        const std::string token = "{" + key + "}";
        if (pattern.compare(at, token.size(), token) == 0) {
          out += value;
          at += token.size();
          replaced = true;
          break;
        }
      }
    if (!replaced) out += pattern[at++];
  }
  return out;
}

std::vector<double> near_weights(const std::vector<std::vector<int>>& cells,
                                 const std::vector<int>& parent) {
  std::vector<double> weights;
  weights.reserve(cells.size());
  for (const auto& cell : cells) {
    double squared = 0;
    for (std::size_t d = 0; d < parent.size(); ++d) {
      const double delta = double(cell[d]) - double(parent[d]);
      squared += delta * delta;
    }
    const double distance = std::sqrt(squared);
    weights.push_back(1.0 / (1.0 + distance * distance * distance));
  }
  return weights;
}

std::vector<std::size_t> draw_without_replacement(std::span<const double> weights, std::size_t k,
                                                  Rng& rng) {
  std::vector<double> left(weights.begin(), weights.end());
  std::vector<std::size_t> drawn;
  k = std::min(k, left.size());
  for (std::size_t draw = 0; draw < k; ++draw) {
    const double total = std::accumulate(left.begin(), left.end(), 0.0);
    double u = std::uniform_real_distribution<double>(0.0, total)(rng);
    std::size_t pick = left.size();
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (left[i] <= 0) continue;
      pick = i;  // the last positive one takes what round-off leaves at the end
      if (u < left[i]) break;
      u -= left[i];
    }
    if (pick == left.size()) break;  // nothing left with a positive weight
    drawn.push_back(pick);
    left[pick] = 0;
  }
  return drawn;
}

std::vector<double> embedding_novelty(std::span<const Eigen::VectorXf> embeddings,
                                      std::size_t neighbours) {
  const std::size_t n = embeddings.size();
  if (n < 2) return {};
  // Unit rows in double, so every cosine is one dot product of a Gram matrix.
  Eigen::MatrixXd unit(Eigen::Index(n), embeddings[0].size());
  std::vector<bool> degenerate(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    if (embeddings[i].size() != unit.cols())
      throw std::invalid_argument("embedding_novelty: the embeddings have different sizes");
    const Eigen::VectorXd row = embeddings[i].cast<double>();
    const double norm = row.norm();
    // A zero or non-finite vector says nothing about the text: it scores as a duplicate
    // (every cosine 1), never as the most novel.
    degenerate[i] = !(norm > 0 && std::isfinite(norm));
    if (degenerate[i])
      unit.row(Eigen::Index(i)).setZero();
    else
      unit.row(Eigen::Index(i)) = row / norm;
  }
  const Eigen::MatrixXd gram = unit * unit.transpose();
  const std::size_t k = std::clamp<std::size_t>(neighbours, 1, n - 1);
  std::vector<double> novelty(n);
  std::vector<double> cosines;
  for (std::size_t i = 0; i < n; ++i) {
    cosines.clear();
    for (std::size_t j = 0; j < n; ++j)
      if (j != i)
        cosines.push_back(degenerate[i] || degenerate[j]
                              ? 1.0
                              : std::clamp(gram(Eigen::Index(i), Eigen::Index(j)), -1.0, 1.0));
    std::partial_sort(cosines.begin(), cosines.begin() + std::ptrdiff_t(k), cosines.end(),
                      std::greater<>());
    double mean = 0;
    for (std::size_t c = 0; c < k; ++c) mean += cosines[c];
    novelty[i] = std::max(1.0 - mean / double(k), kMinNovelty);
  }
  return novelty;
}

std::vector<double> softmax(std::span<const double> logits) {
  std::vector<double> out(logits.begin(), logits.end());
  if (out.empty()) return out;
  const double top = *std::max_element(out.begin(), out.end());
  if (top == -std::numeric_limits<double>::infinity()) {
    std::fill(out.begin(), out.end(), 1.0 / double(out.size()));
    return out;
  }
  double total = 0;
  for (double& v : out) total += (v = std::exp(v - top));
  for (double& v : out) v /= total;
  return out;
}

namespace {

std::vector<double> logs(std::span<const double> weights) {
  std::vector<double> out;
  for (const double w : weights) out.push_back(std::log(std::max(w, 1e-300)));
  return out;
}

// Log-weights back to weights: convex (softmax) for max_total 1, else free with a capped sum.
std::vector<double> weights_of(const std::vector<double>& logits, double max_total) {
  if (max_total <= 1.0) return softmax(logits);
  std::vector<double> out;
  double total = 0;
  for (const double v : logits) total += out.emplace_back(std::exp(std::min(v, 700.0)));
  if (total > max_total)
    for (double& w : out) w *= max_total / total;
  return out;
}

}  // namespace

std::vector<double> perturb_mixture(std::span<const double> weights, double sigma, Rng& rng,
                                    double max_total) {
  std::vector<double> logits = logs(weights);
  std::normal_distribution<double> step(0.0, sigma);
  for (double& v : logits) v += step(rng);
  return weights_of(logits, max_total);
}

std::vector<double> cross_mixtures(std::span<const double> first, std::span<const double> second,
                                   Rng& rng, double max_total) {
  if (first.size() != second.size())
    throw std::invalid_argument("cross_mixtures: the mixtures have different experts");
  const double a = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const std::vector<double> l1 = logs(first), l2 = logs(second);
  std::vector<double> blend(l1.size());
  for (std::size_t i = 0; i < blend.size(); ++i) blend[i] = a * l1[i] + (1 - a) * l2[i];
  return weights_of(blend, max_total);
}

std::vector<double> initial_mixture(std::size_t experts, double sigma, Rng& rng, double max_total) {
  std::vector<double> logits(experts);
  std::normal_distribution<double> draw(0.0, sigma);
  for (double& v : logits) v = draw(rng);
  if (max_total <= 1.0) return softmax(logits);
  for (double& v : logits) v -= std::log(double(experts));
  return weights_of(logits, max_total);
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (const char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

namespace {

std::vector<std::string> ngrams(const std::string& text, int n) {
  const std::vector<std::string> w = words(text);
  std::vector<std::string> out;
  for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= w.size(); ++i) {
    std::string gram;
    for (int j = 0; j < n; ++j) gram += (j ? "\x1f" : "") + w[i + static_cast<std::size_t>(j)];
    out.push_back(std::move(gram));
  }
  return out;
}

}  // namespace

double repeated_ngram_fraction(const std::string& text, int n) {
  const std::vector<std::string> grams = ngrams(text, n);
  if (grams.size() < 2) return 0.0;
  std::set<std::string> seen;
  std::size_t repeated = 0;
  for (const auto& gram : grams)
    if (!seen.insert(gram).second) ++repeated;
  return double(repeated) / double(grams.size());
}

double ngram_overlap(const std::string& a, const std::string& b, int n) {
  const auto ga = ngrams(a, n), gb = ngrams(b, n);
  const std::set<std::string> sa(ga.begin(), ga.end()), sb(gb.begin(), gb.end());
  if (sa.empty() || sb.empty()) return 0.0;
  std::size_t shared = 0;
  for (const auto& gram : sa) shared += sb.count(gram);
  return double(shared) / double(std::min(sa.size(), sb.size()));
}

bool is_blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace qdgen::engine::text
