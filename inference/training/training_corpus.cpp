#include "training_corpus.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qdgen::inference::training {

TrainingCorpus::TrainingCorpus(const std::vector<CorpusDocument>& documents,
                               const Tokenizer& tokenizer, TokenId end_of_text,
                               const CorpusSplit& split, const std::string& sources)
    : context_(split.context) {
  if (documents.empty()) {
    throw std::runtime_error(sources +
                             ": no documents (expected fortune records separated by '%' lines, "
                             "paragraphs of text, or JSONL lines with \"text\")");
  }
  const auto count = static_cast<std::int64_t>(documents.size());
  std::vector<bool> is_heldout(documents.size(), false);
  std::int64_t heldout = 0;
  if (split.heldout_fraction > 0 && count >= 2) {
    for (std::size_t i = 0; i < documents.size(); ++i) {
      is_heldout[i] = is_held_out(documents[i].id, split.heldout_fraction);
      heldout += is_heldout[i] ? 1 : 0;
    }
    const auto by_id = [&](std::size_t a, std::size_t b) {
      return documents[a].id < documents[b].id;
    };
    std::vector<std::size_t> order(documents.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (heldout == 0) {
      is_heldout[*std::min_element(order.begin(), order.end(), by_id)] = true;
      heldout = 1;
    } else if (heldout == count) {
      is_heldout[*std::max_element(order.begin(), order.end(), by_id)] = false;
      heldout = count - 1;
    }
  }
  for (std::size_t i = 0; i < documents.size(); ++i) {
    std::vector<TokenId>& stream = is_heldout[i] ? heldout_ : train_;
    const auto ids = tokenizer.encode(documents[i].text, false);
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
