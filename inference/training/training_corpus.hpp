#pragma once
// The corpus as training sees it: documents tokenised, split into training and held-out
// documents by their ids (is_held_out: a document is on the same side in every corpus that
// holds it, so a category file's held-out documents are held out of the whole corpus too),
// each side packed into one token stream with an end-of-text token after
// every document, and cut into fixed contexts.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "qdgen/inference/corpus.hpp"
#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference::training {

struct CorpusSplit {
  std::int64_t context = 0;  // tokens a sequence predicts
  // Of the documents, by id. When that holds out none (or all) of two or more documents,
  // the one with the smallest id is held out (the one with the largest kept).
  double heldout_fraction = 0;
};

class TrainingCorpus {
 public:
  // Throws when there are no documents or the training side has fewer than context + 1
  // tokens; `sources` names the inputs in those messages.
  TrainingCorpus(const std::vector<CorpusDocument>& documents, const Tokenizer& tokenizer,
                 TokenId end_of_text, const CorpusSplit& split, const std::string& sources);

  std::int64_t context() const { return context_; }
  // Training window w: inputs tokens [w*context, (w+1)*context), targets shifted by one.
  std::int64_t train_windows() const;
  const std::vector<TokenId>& train_tokens() const { return train_; }
  // Held-out windows cover the held-out stream with the same stride; the last may be shorter
  // (at least one target). The first `count` of them, as [begin, end) token offsets.
  std::vector<std::pair<std::int64_t, std::int64_t>> heldout_windows(std::int64_t count) const;
  const std::vector<TokenId>& heldout_tokens() const { return heldout_; }
  std::int64_t train_documents() const { return train_documents_; }
  std::int64_t heldout_documents() const { return heldout_documents_; }

 private:
  std::int64_t context_;
  std::vector<TokenId> train_, heldout_;
  std::int64_t train_documents_ = 0, heldout_documents_ = 0;
};

}  // namespace qdgen::inference::training
