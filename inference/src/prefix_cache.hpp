#pragma once
// The KV of prompt prefixes, kept by a model across calls: QD search sends the same few-shot
// template or judge instruction every iteration. A PrefixIndex (qdgen/inference/prefix_index.hpp)
// keyed by tokens and LoRA mixture, holding KV copies, within a byte budget.

#include <cstdint>
#include <span>

#include "llama_runtime.hpp"
#include "qdgen/inference/model.hpp"
#include "qdgen/inference/prefix_index.hpp"

namespace qdgen::inference {

class PrefixCache {
 public:
  // max_bytes < 0: no limit (a cache that lives for one call).
  PrefixCache(const LlamaRuntime& runtime, std::int64_t max_bytes);

  using Hit = PrefixIndex<KvCache>::Hit;
  // The longest prefix of `tokens` (read under `mixture`), at most max_length, that an entry
  // shares; marks it used. Valid until the next insert or clear.
  Hit find(std::span<const std::int32_t> tokens, const LoraMixture& mixture,
           std::int64_t max_length);
  // Copies the hit's positions into `slot` of `target`, and counts them as reused.
  void copy(const Hit& hit, KvCache& target, std::int64_t slot);

  // Keeps positions [0, tokens.size()) of `slot` of `source` as the KV of (tokens, mixture).
  // Returns false when `tokens` alone exceed the budget.
  bool insert(std::span<const std::int32_t> tokens, const LoraMixture& mixture,
              const KvCache& source, std::int64_t slot);

  void clear();
  PrefixCacheStats stats() const;

 private:
  const LlamaRuntime& runtime_;
  std::int64_t max_bytes_;
  std::int64_t bytes_per_token_;
  std::int64_t reused_ = 0;
  PrefixIndex<KvCache> index_;
};

}  // namespace qdgen::inference
