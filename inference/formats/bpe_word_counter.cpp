#include "bpe_word_counter.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <thread>
#include <unordered_map>

#include "tokenizer_bpe.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference {
namespace {

using Counts = std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>>;

// Cuts the special tokens out of text, leftmost-longest as the encoder does, and calls
// section() with each stretch between them.
class SpecialTokenCutter {
 public:
  explicit SpecialTokenCutter(std::span<const std::string> special_tokens)
      : tokens_(special_tokens.begin(), special_tokens.end()) {
    std::sort(tokens_.begin(), tokens_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const auto& token : tokens_) starts_[static_cast<unsigned char>(token.front())] = true;
  }

  template <typename Section>
  void cut(std::string_view text, Section section) const {
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t length = match_at(text, i);
      if (length == 0) {
        ++i;
        continue;
      }
      if (i > start) section(text.substr(start, i - start));
      i += length;
      start = i;
    }
    if (start < text.size()) section(text.substr(start));
  }

 private:
  std::size_t match_at(std::string_view text, std::size_t i) const {
    if (!starts_[static_cast<unsigned char>(text[i])]) return 0;
    for (const auto& token : tokens_) {  // longest first
      if (text.compare(i, token.size(), token) == 0) return token.size();
    }
    return 0;
  }

  std::vector<std::string> tokens_;
  std::array<bool, 256> starts_{};
};

void count_range(std::span<const std::string_view> texts, const hf::PreTokenizer& pre_tokenizer,
                 const SpecialTokenCutter& cutter, Counts& counts) {
  std::vector<std::string> pieces;
  std::string repaired;
  for (std::string_view text : texts) {
    if (!unicode::is_valid_utf8(text)) {
      repaired = unicode::repair_utf8(text);
      text = repaired;
    }
    cutter.cut(text, [&](std::string_view section) {
      pieces.assign(1, std::string(section));
      pre_tokenizer(pieces, 0);
      for (auto& piece : pieces) {
        const auto it = counts.find(piece);
        if (it != counts.end()) {
          ++it->second;
        } else {
          counts.emplace(std::move(piece), 1);
        }
      }
    });
  }
}

}  // namespace

std::vector<WordCount> count_words(std::span<const std::string_view> texts,
                                   const hf::PreTokenizer& pre_tokenizer,
                                   std::span<const std::string> special_tokens, unsigned threads) {
  if (texts.empty()) return {};
  const SpecialTokenCutter cutter(special_tokens);
  std::size_t total_bytes = 0;
  for (const auto text : texts) total_bytes += text.size();
  // Below ~64 KiB a thread costs more than it saves.
  const std::size_t useful = std::max<std::size_t>(1, total_bytes / (64 << 10));
  const std::size_t workers = std::min<std::size_t>({std::max(1u, threads), useful, texts.size()});

  // Contiguous ranges of about equal bytes.
  std::vector<std::size_t> bounds{0};
  for (std::size_t i = 0, bytes = 0; i < texts.size(); ++i) {
    bytes += texts[i].size();
    if (bounds.size() < workers && bytes * workers >= total_bytes * bounds.size()) {
      bounds.push_back(i + 1);
    }
  }
  while (bounds.size() <= workers) bounds.push_back(texts.size());

  std::vector<Counts> counts(workers);
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) {
    pool.emplace_back([&, t] {
      try {
        count_range(texts.subspan(bounds[t], bounds[t + 1] - bounds[t]), pre_tokenizer, cutter,
                    counts[t]);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  try {
    count_range(texts.subspan(0, bounds[1]), pre_tokenizer, cutter, counts[0]);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& thread : pool) thread.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }

  Counts& all = counts[0];
  for (std::size_t t = 1; t < workers; ++t) {
    for (auto& node : counts[t]) all[node.first] += node.second;
    Counts().swap(counts[t]);
  }
  std::vector<WordCount> words;
  words.reserve(all.size());
  for (auto& [word, count] : all) words.push_back({word, count});
  std::sort(words.begin(), words.end(),
            [](const WordCount& a, const WordCount& b) { return a.bytes < b.bytes; });
  return words;
}

}  // namespace qdgen::inference
