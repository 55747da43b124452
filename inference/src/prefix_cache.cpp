#include "prefix_cache.hpp"

namespace qdgen::inference {
namespace {

std::int64_t kv_bytes_per_token(const LlamaRuntime& runtime) {
  const LlamaConfig& c = runtime.config();
  return 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim *
         static_cast<std::int64_t>(c10::elementSize(runtime.dtype()));
}

}  // namespace

// A budget of B bytes holds n positions exactly when n * bytes_per_token <= B.
PrefixCache::PrefixCache(const LlamaRuntime& runtime, std::int64_t max_bytes)
    : runtime_(runtime),
      max_bytes_(max_bytes),
      bytes_per_token_(kv_bytes_per_token(runtime)),
      index_(max_bytes < 0 ? -1 : max_bytes / bytes_per_token_) {}

PrefixCache::Hit PrefixCache::find(std::span<const std::int32_t> tokens, const LoraMixture& mixture,
                                   std::int64_t max_length) {
  return index_.find(tokens, mixture, max_length);
}

void PrefixCache::copy(const Hit& hit, KvCache& target, std::int64_t slot) {
  if (hit.length == 0) return;
  runtime_.copy_slot(*hit.value, 0, target, slot, hit.length);
  reused_ += hit.length;
}

bool PrefixCache::insert(std::span<const std::int32_t> tokens, const LoraMixture& mixture,
                         const KvCache& source, std::int64_t slot) {
  const auto length = static_cast<std::int64_t>(tokens.size());
  return index_.insert(tokens, mixture, [&] {
    KvCache kv = runtime_.make_cache(1, length);
    runtime_.copy_slot(source, slot, kv, 0, length);
    return kv;
  });
}

void PrefixCache::clear() {
  index_.clear();
}

PrefixCacheStats PrefixCache::stats() const {
  PrefixCacheStats s;
  s.entries = index_.entries();
  s.tokens = index_.positions();
  s.bytes = s.tokens * bytes_per_token_;
  s.capacity_bytes = max_bytes_;
  s.reused_tokens = reused_;
  return s;
}

}  // namespace qdgen::inference
