#include "training_corpus.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "random_words.hpp"

namespace qdgen::inference::training {

TrainingCorpus::TrainingCorpus(const std::vector<std::string>& documents,
                               const Tokenizer& tokenizer, TokenId end_of_text,
                               const CorpusSplit& split, const std::string& sources)
    : context_(split.context) {
  if (documents.empty()) {
    throw std::runtime_error(sources +
                             ": no documents (expected fortune records separated by '%' lines, "
                             "paragraphs of text, or JSONL lines with \"text\")");
  }
  const auto count = static_cast<std::int64_t>(documents.size());
  std::int64_t heldout = 0;
  if (split.heldout_fraction > 0 && count >= 2) {
    heldout = std::clamp<std::int64_t>(
        std::llround(split.heldout_fraction * static_cast<double>(count)), 1, count - 1);
  }
  // A seeded choice of held-out documents, independent of the batch order's stream.
  std::vector<std::int64_t> order(documents.size());
  for (std::int64_t i = 0; i < count; ++i) order[static_cast<std::size_t>(i)] = i;
  std::mt19937_64 rng(split.seed ^ 0x9e3779b97f4a7c15ULL);
  shuffle_in_place(rng, order);
  std::vector<bool> is_heldout(documents.size(), false);
  for (std::int64_t i = 0; i < heldout; ++i) is_heldout[static_cast<std::size_t>(order[i])] = true;

  for (std::size_t i = 0; i < documents.size(); ++i) {
    std::vector<TokenId>& stream = is_heldout[i] ? heldout_ : train_;
    const auto ids = tokenizer.encode(documents[i], false);
    stream.insert(stream.end(), ids.begin(), ids.end());
    stream.push_back(end_of_text);
  }
  heldout_documents_ = heldout;
  train_documents_ = count - heldout;
  if (static_cast<std::int64_t>(train_.size()) < context_ + 1) {
    throw std::runtime_error(
        sources + ": the corpus is smaller than one context: " + std::to_string(train_.size()) +
        " training tokens (" + std::to_string(train_documents_) + " documents), a context needs " +
        std::to_string(context_ + 1) + " (give more data or a smaller --context)");
  }
}

std::int64_t TrainingCorpus::train_windows() const {
  return (static_cast<std::int64_t>(train_.size()) - 1) / context_;
}

std::vector<std::pair<std::int64_t, std::int64_t>> TrainingCorpus::heldout_windows(
    std::int64_t count) const {
  std::vector<std::pair<std::int64_t, std::int64_t>> windows;
  const auto size = static_cast<std::int64_t>(heldout_.size());
  for (std::int64_t begin = 0;
       begin + 1 < size && static_cast<std::int64_t>(windows.size()) < count; begin += context_) {
    windows.emplace_back(begin, std::min(size, begin + context_ + 1));
  }
  return windows;
}

}  // namespace qdgen::inference::training
