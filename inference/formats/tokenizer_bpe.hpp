#pragma once
// The BPE model of tokenizer.json: a word (one pre-token) becomes token ids by repeatedly
// applying the lowest-ranked merge, leftmost first. Merges live in a hash map keyed by the
// id pair, the merge loop is a heap over a linked list of symbols, and words already seen
// are cached.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocabulary = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool byte_fallback = false;
  bool fuse_unk = false;
  bool ignore_merges = false;
};

class BpeModel {
 public:
  BpeModel(Vocabulary vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           BpeOptions options);

  void encode_word(std::string_view word, std::vector<TokenId>& out) const;
  const Vocabulary& vocab() const { return vocab_; }
  const BpeOptions& options() const { return options_; }

 private:
  struct Merge {
    std::uint32_t rank;
    TokenId merged;
  };
  static std::uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
  }
  std::optional<TokenId> find(std::string_view token) const;
  void merge_word(std::string_view word, std::vector<TokenId>& out) const;
  void emit_unknown(std::string_view piece, std::vector<TokenId>& out) const;

  Vocabulary vocab_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  BpeOptions options_;
  std::optional<TokenId> unk_id_;
  std::vector<TokenId> byte_ids_;  // <0xNN> ids for byte fallback, -1 where missing

  static constexpr std::size_t kMaxCachedWordBytes = 256;
  static constexpr std::size_t kMaxCacheEntries = 1 << 17;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>> cache_;
};

}  // namespace qdgen::inference
