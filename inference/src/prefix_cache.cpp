#include "prefix_cache.hpp"

#include <algorithm>

namespace qdgen::inference {
namespace {

std::int64_t common_length(std::span<const std::int32_t> a, std::span<const std::int32_t> b) {
  const std::size_t n = std::min(a.size(), b.size());
  return static_cast<std::int64_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first -
                                   a.begin());
}

}  // namespace

PrefixCache::PrefixCache(const LlamaRuntime& runtime, std::int64_t max_bytes)
    : runtime_(runtime), max_bytes_(max_bytes) {
  const LlamaConfig& c = runtime.config();
  bytes_per_token_ = 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim *
                     static_cast<std::int64_t>(c10::elementSize(runtime.dtype()));
}

PrefixCache::Hit PrefixCache::find(std::span<const std::int32_t> tokens, std::int64_t max_length) {
  auto best = entries_.end();
  std::int64_t best_length = 0;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const std::int64_t length = std::min(max_length, common_length(it->tokens, tokens));
    if (length > best_length) best = it, best_length = length;
  }
  if (best == entries_.end()) return {};
  entries_.splice(entries_.begin(), entries_, best);
  return {&entries_.front().kv, best_length};
}

void PrefixCache::copy(const Hit& hit, KvCache& target, std::int64_t slot) {
  if (hit.length == 0) return;
  runtime_.copy_slot(*hit.kv, 0, target, slot, hit.length);
  reused_ += hit.length;
}

bool PrefixCache::insert(std::span<const std::int32_t> tokens, const KvCache& source,
                         std::int64_t slot) {
  const auto length = static_cast<std::int64_t>(tokens.size());
  if (length == 0) return true;
  if (max_bytes_ >= 0 && length * bytes_per_token_ > max_bytes_) return false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto kept = static_cast<std::int64_t>(it->tokens.size());
    const std::int64_t common = common_length(it->tokens, tokens);
    if (common == length) {  // already covered
      entries_.splice(entries_.begin(), entries_, it);
      return true;
    }
    if (common == kept) {  // a prefix of the new entry
      tokens_ -= kept;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  while (max_bytes_ >= 0 && !entries_.empty() &&
         (tokens_ + length) * bytes_per_token_ > max_bytes_) {
    tokens_ -= static_cast<std::int64_t>(entries_.back().tokens.size());
    entries_.pop_back();
  }
  Entry entry{{tokens.begin(), tokens.end()}, runtime_.make_cache(1, length)};
  runtime_.copy_slot(source, slot, entry.kv, 0, length);
  entries_.push_front(std::move(entry));
  tokens_ += length;
  return true;
}

void PrefixCache::clear() {
  entries_.clear();
  tokens_ = 0;
}

PrefixCacheStats PrefixCache::stats() const {
  PrefixCacheStats s;
  s.entries = static_cast<std::int64_t>(entries_.size());
  s.tokens = tokens_;
  s.bytes = tokens_ * bytes_per_token_;
  s.capacity_bytes = max_bytes_;
  s.reused_tokens = reused_;
  return s;
}

}  // namespace qdgen::inference
