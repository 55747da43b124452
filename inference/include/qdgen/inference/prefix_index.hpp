#pragma once
// Which kept KV can serve a prompt. The KV of a prompt's first L positions depends on its first
// L tokens and on the LoRA mixture the model read them with, so an entry is keyed by both: a
// lookup returns the longest prefix that an entry of the same mixture shares with the prompt
// (a kept "template + parent A" serves "template + parent B" up to where they differ), and
// entries of different mixtures, the base model's (the empty mixture) included, serve each
// other only the positions that neither mixture applies to (an "activated" mixture's
// positions before its from_position). Least recently used entries are evicted to stay within a
// budget of positions. No libtorch: the KV itself is the Value (PrefixCache keeps a KvCache there).

#include <algorithm>
#include <cstdint>
#include <limits>
#include <list>
#include <span>
#include <vector>

#include "qdgen/llm/generation.hpp"

namespace qdgen::inference {

// The first position whose KV differs for a sequence read under `a` and under `b`: none (the
// largest int64) when they are equal; else the first position either applies its adapters to.
// A mixture with adapters applies them from its from_position on (resolved: >= 0), so an
// "activated" mixture's positions before it are the base model's, as the empty mixture's are.
inline std::int64_t first_differing_position(const llm::LoraMixture& a, const llm::LoraMixture& b) {
  constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  if (a == b) return kNever;
  const std::int64_t from_a = a.empty() ? kNever : a.from_position;
  const std::int64_t from_b = b.empty() ? kNever : b.from_position;
  return std::min(from_a, from_b);
}

// The mixture that the KV of a sequence's first `length` positions was read under, as a key:
// the empty mixture (the base model's) when the mixture applies to none of them.
inline llm::LoraMixture prefix_mixture(const llm::LoraMixture& mixture, std::int64_t length) {
  return mixture.empty() || length <= mixture.from_position ? llm::LoraMixture{} : mixture;
}

// What a prefix's KV depends on: its tokens, and the mixture it was read under up to where
// mixtures differ (first_differing_position). Mixtures are equal when they name the same
// adapters with the same weights in the same order (LoraMixture's ==): a reordered mixture is
// another key, which may cost a recomputation but never shares KV that differs.
struct PrefixKey {
  std::vector<std::int32_t> tokens;
  llm::LoraMixture mixture;

  // Positions of `prompt` (read under `prompt_mixture`) whose KV this key's entry holds: their
  // common token prefix, up to the first position where the two mixtures differ.
  std::int64_t shared_length(std::span<const std::int32_t> prompt,
                             const llm::LoraMixture& prompt_mixture) const {
    const std::size_t n = std::min(tokens.size(), prompt.size());
    const auto common = static_cast<std::int64_t>(
        std::mismatch(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(n),
                      prompt.begin())
            .first -
        tokens.begin());
    return std::min(common, first_differing_position(mixture, prompt_mixture));
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
  // The longest prefix of `tokens` (read under `mixture`), at most max_length, whose KV an entry
  // holds; marks that entry used. Valid until the next insert or clear.
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

  // Keeps make() as the value of (tokens, mixture), keyed as the base model's when the mixture
  // applies to none of the tokens (prefix_mixture). Entries that the new one covers (their
  // tokens a prefix of `tokens`, read alike) go; nothing is added when one already covers
  // `tokens`. Returns false, keeping nothing, when `tokens` alone exceed the budget.
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
      if (common == kept) {  // a prefix of the new entry, read alike
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
    entries_.push_front(
        Entry{{{tokens.begin(), tokens.end()}, prefix_mixture(mixture, length)}, make()});
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
