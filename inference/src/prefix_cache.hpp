#pragma once
// The KV of prompt prefixes, kept by a model across calls: QD search sends the same few-shot
// template or judge instruction every iteration. Entries are keyed by exact token ids; a
// lookup returns the longest prefix that some entry shares with a prompt (the KV of the first
// L positions depends on the first L tokens only), so a kept "template + parent A" serves
// "template + parent B" up to where they differ. Least recently used entries are evicted to
// stay within a byte budget.

#include <cstdint>
#include <list>
#include <span>
#include <vector>

#include "llama_runtime.hpp"
#include "qdgen/inference/model.hpp"

namespace qdgen::inference {

class PrefixCache {
 public:
  // max_bytes < 0: no limit (a cache that lives for one call).
  PrefixCache(const LlamaRuntime& runtime, std::int64_t max_bytes);

  struct Hit {
    const KvCache* kv = nullptr;
    std::int64_t length = 0;  // positions of `tokens` that the entry's KV covers; 0: none
  };
  // The longest prefix of `tokens`, at most max_length, that an entry shares; marks it used.
  // Valid until the next insert or clear.
  Hit find(std::span<const std::int32_t> tokens, std::int64_t max_length);
  // Copies the hit's positions into `slot` of `target`, and counts them as reused.
  void copy(const Hit& hit, KvCache& target, std::int64_t slot);

  // Keeps positions [0, tokens.size()) of `slot` of `source` as the KV of `tokens`. Entries
  // that are prefixes of `tokens` go (this one covers them); nothing is added when an entry
  // already covers `tokens`. Returns false when `tokens` alone exceed the budget.
  bool insert(std::span<const std::int32_t> tokens, const KvCache& source, std::int64_t slot);

  void clear();
  PrefixCacheStats stats() const;

 private:
  struct Entry {
    std::vector<std::int32_t> tokens;
    KvCache kv;
  };

  const LlamaRuntime& runtime_;
  std::int64_t max_bytes_;
  std::int64_t bytes_per_token_;
  std::int64_t tokens_ = 0;
  std::int64_t reused_ = 0;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace qdgen::inference
