#include "tokenizer_bpe.hpp"

#include <cstdio>
#include <functional>
#include <queue>
#include <stdexcept>

#include "unicode_utf8.hpp"

namespace qdgen::inference {

BpeModel::BpeModel(Vocabulary vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  merges_.reserve(merges.size() * 2);
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto left_id = find(left);
    const auto right_id = find(right);
    const auto merged_id = find(left + right);
    // A merge that names tokens outside the vocabulary can never apply (the reference keeps
    // it inert too: Llama 2's file has three, whose parts are runs of spaces).
    if (!left_id || !right_id || !merged_id) continue;
    // The first (lowest-ranked) occurrence of a pair wins, as in the reference.
    merges_.try_emplace(pair_key(*left_id, *right_id),
                        Merge{static_cast<std::uint32_t>(rank), *merged_id});
  }
  if (options_.unk_token) unk_id_ = find(*options_.unk_token);
  if (options_.byte_fallback) {
    byte_ids_.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      if (const auto id = find(name)) byte_ids_[b] = *id;
    }
  }
}

std::optional<TokenId> BpeModel::find(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (const auto id = find(word)) {
      out.push_back(*id);
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    const auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const std::size_t first = out.size();
  merge_word(word, out);
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(word), std::vector<TokenId>(out.begin() + first, out.end()));
  }
}

void BpeModel::emit_unknown(std::string_view piece, std::vector<TokenId>& out) const {
  if (options_.byte_fallback) {
    bool all_bytes_known = true;
    for (const char c : piece) all_bytes_known &= byte_ids_[static_cast<unsigned char>(c)] >= 0;
    if (all_bytes_known) {
      for (const char c : piece) out.push_back(byte_ids_[static_cast<unsigned char>(c)]);
      return;
    }
  }
  if (!unk_id_) {
    throw std::runtime_error("text contains '" + std::string(piece) +
                             "', which the vocabulary cannot represent, and the model has no "
                             "unk_token");
  }
  if (options_.fuse_unk && !out.empty() && out.back() == *unk_id_) return;
  out.push_back(*unk_id_);
}

void BpeModel::merge_word(std::string_view word, std::vector<TokenId>& out) const {
  // Symbols are the word's characters (with the configured prefix/suffix); -1 marks a
  // character outside the vocabulary, which never merges.
  struct Symbol {
    TokenId id;
    int prev;
    int next;
    std::string_view text;  // only needed for unknown characters
  };
  const auto chars = unicode::split_code_points(word);
  std::vector<Symbol> symbols;
  symbols.reserve(chars.size());
  std::string scratch;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const bool affixed = (i > 0 && !options_.continuing_subword_prefix.empty()) ||
                         (i + 1 == chars.size() && !options_.end_of_word_suffix.empty());
    std::optional<TokenId> id;
    if (affixed) {
      scratch.clear();
      if (i > 0) scratch += options_.continuing_subword_prefix;
      scratch += chars[i];
      if (i + 1 == chars.size()) scratch += options_.end_of_word_suffix;
      id = find(scratch);
    } else {
      id = find(chars[i]);
    }
    symbols.push_back(Symbol{id.value_or(-1), static_cast<int>(i) - 1,
                             i + 1 < chars.size() ? static_cast<int>(i) + 1 : -1, chars[i]});
  }

  using Candidate = std::pair<std::uint32_t, int>;  // (rank, position): smallest first
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto push_pair = [&](int pos) {
    const int next = symbols[pos].next;
    if (next < 0 || symbols[pos].id < 0 || symbols[next].id < 0) return;
    const auto it = merges_.find(pair_key(symbols[pos].id, symbols[next].id));
    if (it != merges_.end()) queue.emplace(it->second.rank, pos);
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) push_pair(i);

  while (!queue.empty()) {
    const auto [rank, pos] = queue.top();
    queue.pop();
    Symbol& left = symbols[pos];
    if (left.id < 0 || left.next < 0) continue;  // merged away or last
    Symbol& right = symbols[left.next];
    const auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.rank != rank) continue;  // pair changed since
    left.id = it->second.merged;
    right.id = -2;  // dead
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(pos);
  }

  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    if (symbols[i].id >= 0) {
      out.push_back(symbols[i].id);
    } else {
      emit_unknown(symbols[i].text, out);
    }
  }
}

}  // namespace qdgen::inference
