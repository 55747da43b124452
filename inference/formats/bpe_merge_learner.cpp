#include "bpe_merge_learner.hpp"

#include <algorithm>
#include <queue>
#include <stdexcept>
#include <unordered_map>

namespace qdgen::inference {

void BpeWords::add(std::span<const TokenId> word, std::uint64_t occurrences) {
  begin.push_back(symbols.size());
  length.push_back(static_cast<std::uint32_t>(word.size()));
  count.push_back(occurrences);
  symbols.insert(symbols.end(), word.begin(), word.end());
}

namespace {

struct PairStats {
  TokenId left;
  TokenId right;
  std::int64_t count = 0;
  // The words the pair has occurred in, each listed once per stretch of additions: it may
  // repeat a word or name one the pair has since left; a merge checks each word anyway.
  std::vector<std::uint32_t> words;
  std::size_t raised_by = 0;  // the last merge (counted from 1) that raised the count
};

// A pair's count when it was queued. A merge raises only pairs with its token, and those are
// queued again with their new count; every other count only falls, so a stale entry
// overstates and is refreshed when it reaches the top.
struct QueuedPair {
  std::int64_t count;
  TokenId left;
  TokenId right;
};

// std::priority_queue's "less": the top is the highest count, then the smallest ids.
struct LowerPriority {
  bool operator()(const QueuedPair& a, const QueuedPair& b) const {
    if (a.count != b.count) return a.count < b.count;
    if (a.left != b.left) return a.left > b.left;
    return a.right > b.right;
  }
};

class MergeLearner {
 public:
  MergeLearner(BpeWords words, std::uint64_t min_frequency)
      : words_(std::move(words)), min_count_(static_cast<std::int64_t>(min_frequency)) {
    for (std::uint32_t w = 0; w < words_.count.size(); ++w) {
      const TokenId* s = words_.symbols.data() + words_.begin[w];
      const auto count = static_cast<std::int64_t>(words_.count[w]);
      for (std::uint32_t i = 0; i + 1 < words_.length[w]; ++i) change(s[i], s[i + 1], count, w);
    }
    for (const auto& stats : stats_) {
      if (stats.count >= min_count_) queue_.push({stats.count, stats.left, stats.right});
    }
    raised_.clear();
  }

  std::vector<std::pair<TokenId, TokenId>> run(const BpeMergeTarget& target) {
    std::vector<std::pair<TokenId, TokenId>> merges;
    const std::int64_t min_count = min_count_;
    while (!queue_.empty() && !target.full()) {
      const QueuedPair top = queue_.top();
      queue_.pop();
      const std::uint32_t index = index_.at(key(top.left, top.right));
      const std::int64_t count = stats_[index].count;
      if (count != top.count) {
        if (count >= min_count) queue_.push({count, top.left, top.right});
        continue;
      }
      if (count < min_count) break;  // the top of the queue: no pair is frequent enough
      const auto merged = target.token_for(top.left, top.right);
      if (!merged) continue;
      merges.emplace_back(top.left, top.right);
      merge(index, *merged, merges.size());
    }
    return merges;
  }

 private:
  static std::uint64_t key(TokenId left, TokenId right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
  }

  void change(TokenId left, TokenId right, std::int64_t delta, std::uint32_t word) {
    const auto [it, created] =
        index_.try_emplace(key(left, right), static_cast<std::uint32_t>(stats_.size()));
    if (created) stats_.push_back({left, right, 0, {}});
    PairStats& stats = stats_[it->second];
    stats.count += delta;
    if (delta <= 0) return;
    if (stats.words.empty() || stats.words.back() != word) stats.words.push_back(word);
    if (stats.raised_by != merge_number_) {
      stats.raised_by = merge_number_;
      raised_.push_back(it->second);
    }
  }

  // Rewrites every word holding the pair, left to right, and moves the counts of the pairs
  // around each occurrence to the new token.
  void merge(std::uint32_t index, TokenId merged, std::size_t merge_number) {
    merge_number_ = merge_number;
    const TokenId a = stats_[index].left;
    const TokenId b = stats_[index].right;
    std::vector<std::uint32_t> words = std::move(stats_[index].words);
    stats_[index].words.clear();
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (const std::uint32_t w : words) {
      TokenId* s = words_.symbols.data() + words_.begin[w];
      const std::uint32_t n = words_.length[w];
      const auto count = static_cast<std::int64_t>(words_.count[w]);
      std::uint32_t out = 0;
      for (std::uint32_t in = 0; in < n;) {
        if (in + 1 < n && s[in] == a && s[in + 1] == b) {
          // s[out - 1] is already rewritten: a run "a b a b" becomes X X.
          if (out > 0) {
            change(s[out - 1], a, -count, w);
            change(s[out - 1], merged, count, w);
          }
          if (in + 2 < n) {
            change(b, s[in + 2], -count, w);
            change(merged, s[in + 2], count, w);
          }
          change(a, b, -count, w);
          s[out++] = merged;
          in += 2;
        } else {
          s[out++] = s[in++];
        }
      }
      words_.length[w] = out;
    }
    if (stats_[index].count != 0) {
      throw std::logic_error("BPE training: a merged pair still has occurrences");
    }
    for (const std::uint32_t raised : raised_) {
      const PairStats& stats = stats_[raised];
      if (stats.count >= min_count_) queue_.push({stats.count, stats.left, stats.right});
    }
    raised_.clear();
  }

  BpeWords words_;
  std::int64_t min_count_;
  std::size_t merge_number_ = 0;  // 0 while counting the corpus
  std::vector<std::uint32_t> raised_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
  std::vector<PairStats> stats_;
  std::priority_queue<QueuedPair, std::vector<QueuedPair>, LowerPriority> queue_;
};

}  // namespace

std::vector<std::pair<TokenId, TokenId>> learn_bpe_merges(BpeWords words,
                                                          std::uint64_t min_frequency,
                                                          const BpeMergeTarget& target) {
  return MergeLearner(std::move(words), min_frequency).run(target);
}

}  // namespace qdgen::inference
