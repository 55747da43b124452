#pragma once
// Which kept KV can serve a prompt. The KV of a prompt's first L positions depends on its first
// L tokens and on the LoRA mixture the model read them with, so an entry is keyed by both: a
// lookup returns the longest prefix that an entry of the same mixture shares with the prompt
// (a kept "template + parent A" serves "template + parent B" up to where they differ), and
// entries of different mixtures, the base model's (the empty mixture) included, never serve
// each other. Least recently used entries are evicted to stay within a budget of positions.
// No libtorch: the KV itself is the Value (PrefixCache keeps a KvCache there).

#include <algorithm>
#include <cstdint>
#include <list>
#include <span>
#include <vector>

#include "qdgen/llm/generation.hpp"

namespace qdgen::inference {

// What a prefix's KV depends on. Mixtures are equal when they name the same adapters with the
// same weights in the same order (LoraMixture's ==): a reordered mixture is another key, which
// may cost a recomputation but never shares KV that differs.
struct PrefixKey {
  std::vector<std::int32_t> tokens;
  llm::LoraMixture mixture;

  // Positions of `prompt` (read under `prompt_mixture`) whose KV this key's entry holds: their
  // common token prefix when the mixtures are equal, else 0.
  std::int64_t shared_length(std::span<const std::int32_t> prompt,
                             const llm::LoraMixture& prompt_mixture) const {
    if (!(mixture == prompt_mixture)) return 0;
    const std::size_t n = std::min(tokens.size(), prompt.size());
    return static_cast<std::int64_t>(std::mismatch(tokens.begin(),
                                                   tokens.begin() + static_cast<std::ptrdiff_t>(n),
                                                   prompt.begin())
                                         .first -
                                     tokens.begin());
  }
};

template <class Value>
class PrefixIndex {
 public:
  // max_positions < 0: no limit.
  explicit PrefixIndex(std::int64_t max_positions) : max_positions_(max_positions) {}

  struct Hit {
    Value* value = nullptr;
    std::int64_t length = 0;  // positions of the prompt that the entry's value covers; 0: none
  };
  // The longest prefix of `tokens`, at most max_length, that an entry of `mixture` shares;
  // marks that entry used. Valid until the next insert or clear.
  Hit find(std::span<const std::int32_t> tokens, const llm::LoraMixture& mixture,
           std::int64_t max_length) {
    auto best = entries_.end();
    std::int64_t best_length = 0;
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const std::int64_t length = std::min(max_length, it->key.shared_length(tokens, mixture));
      if (length > best_length) best = it, best_length = length;
    }
    if (best == entries_.end()) return {};
    entries_.splice(entries_.begin(), entries_, best);
    return {&entries_.front().value, best_length};
  }

  // Keeps make() as the value of (tokens, mixture). Entries of the same mixture whose tokens
  // are a prefix of `tokens` go (the new one covers them); nothing is added when one already
  // covers `tokens`. Returns false, keeping nothing, when `tokens` alone exceed the budget.
  template <class Make>
  bool insert(std::span<const std::int32_t> tokens, const llm::LoraMixture& mixture, Make&& make) {
    const auto length = static_cast<std::int64_t>(tokens.size());
    if (length == 0) return true;
    if (max_positions_ >= 0 && length > max_positions_) return false;
    for (auto it = entries_.begin(); it != entries_.end();) {
      const auto kept = static_cast<std::int64_t>(it->key.tokens.size());
      const std::int64_t common = it->key.shared_length(tokens, mixture);
      if (common == length) {  // already covered
        entries_.splice(entries_.begin(), entries_, it);
        return true;
      }
      if (common == kept) {  // a prefix of the new entry, of the same mixture
        positions_ -= kept;
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    while (max_positions_ >= 0 && !entries_.empty() && positions_ + length > max_positions_) {
      positions_ -= static_cast<std::int64_t>(entries_.back().key.tokens.size());
      entries_.pop_back();
    }
    entries_.push_front(Entry{{{tokens.begin(), tokens.end()}, mixture}, make()});
    positions_ += length;
    return true;
  }

  void clear() {
    entries_.clear();
    positions_ = 0;
  }
  std::int64_t entries() const { return static_cast<std::int64_t>(entries_.size()); }
  std::int64_t positions() const { return positions_; }  // over all entries

 private:
  struct Entry {
    PrefixKey key;
    Value value;
  };
  std::int64_t max_positions_;
  std::int64_t positions_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace qdgen::inference
