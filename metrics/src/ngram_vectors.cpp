#include "ngram_vectors.hpp"

#include <sstream>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qdgen::metrics::detail {
namespace {

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream stream(text);
  for (std::string word; stream >> word;) words.push_back(std::move(word));
  return words;
}

}  // namespace

Eigen::SparseMatrix<double, Eigen::RowMajor> ngram_count_vectors(std::span<const std::string> texts,
                                                                 int max_order) {
  std::unordered_map<std::string, int> column_of_ngram;
  std::vector<Eigen::Triplet<double>> counts;
  for (std::size_t row = 0; row < texts.size(); ++row) {
    const std::vector<std::string> words = words_of(texts[row]);
    for (int order = 1; order <= max_order; ++order) {
      for (std::size_t start = 0; start + static_cast<std::size_t>(order) <= words.size();
           ++start) {
        // A space cannot occur inside a whitespace-split word, so joining by one is unambiguous.
        std::string ngram = words[start];
        for (int k = 1; k < order; ++k) ngram += ' ' + words[start + static_cast<std::size_t>(k)];
        const auto [it, inserted] =
            column_of_ngram.try_emplace(std::move(ngram), static_cast<int>(column_of_ngram.size()));
        counts.emplace_back(static_cast<int>(row), it->second, 1.0);
      }
    }
  }
  Eigen::SparseMatrix<double, Eigen::RowMajor> vectors(
      static_cast<Eigen::Index>(texts.size()), static_cast<Eigen::Index>(column_of_ngram.size()));
  vectors.setFromTriplets(counts.begin(), counts.end());  // sums repeated n-grams
  return vectors;
}

}  // namespace qdgen::metrics::detail
