// Byte-level BPE training: validate the options, count the words, learn the merges.

#include "qdgen/inference/tokenizer_trainer.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "bpe_merge_learner.hpp"
#include "bpe_word_counter.hpp"
#include "tokenizer_bpe.hpp"
#include "tokenizer_trainer_split.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference {
namespace {

std::string byte_token(unsigned char byte) {
  std::string text;
  unicode::append_utf8(text, unicode::bytes_to_unicode()[byte]);
  return text;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", '" : "'") + names[i] + "'";
  return out;
}

void check_special_tokens(const std::vector<std::string>& specials) {
  std::unordered_set<std::string> seen;
  std::unordered_set<std::string> byte_tokens;
  for (int b = 0; b < 256; ++b) byte_tokens.insert(byte_token(static_cast<unsigned char>(b)));
  for (const auto& token : specials) {
    if (token.empty()) throw std::invalid_argument("a special token is empty");
    if (!unicode::is_valid_utf8(token)) {
      throw std::invalid_argument("special token '" + unicode::repair_utf8(token) +
                                  "' is not valid UTF-8");
    }
    if (!seen.insert(token).second) {
      throw std::invalid_argument("special token '" + token + "' is given twice");
    }
    if (byte_tokens.count(token) != 0) {
      throw std::invalid_argument("special token '" + token +
                                  "' is the text of a byte token; choose a longer one, e.g. <|" +
                                  token + "|>");
    }
  }
}

std::string resolve_named_token(const std::string& wanted, const char* role,
                                const std::vector<std::string>& specials) {
  if (wanted.empty()) return specials.empty() ? std::string() : specials.front();
  if (std::find(specials.begin(), specials.end(), wanted) == specials.end()) {
    throw std::invalid_argument(
        std::string(role) + " token '" + wanted + "' is not one of the special tokens (" +
        (specials.empty() ? std::string("none") : quoted_list(specials)) + ")");
  }
  return wanted;
}

}  // namespace

TrainedBpeTokenizer train_bpe_tokenizer(std::span<const std::string_view> texts,
                                        const BpeTrainingOptions& options) {
  const auto& specials = options.special_tokens;
  check_special_tokens(specials);
  const std::size_t base = specials.size() + 256;
  if (options.vocab_size < base) {
    throw std::invalid_argument(
        "vocabulary size " + std::to_string(options.vocab_size) +
        " is smaller than the 256 byte tokens plus " + std::to_string(specials.size()) +
        " special token" + (specials.size() == 1 ? "" : "s") + " (" + std::to_string(base) + ")");
  }
  if (options.vocab_size > static_cast<std::size_t>(std::numeric_limits<TokenId>::max())) {
    throw std::invalid_argument("vocabulary size " + std::to_string(options.vocab_size) +
                                " does not fit 32-bit token ids");
  }
  if (options.min_frequency < 1) {
    throw std::invalid_argument("min frequency must be at least 1, got 0");
  }
  TrainedBpeTokenizer result;
  result.bos_token = resolve_named_token(options.bos_token, "bos", specials);
  result.eos_token = resolve_named_token(options.eos_token, "eos", specials);
  result.special_count = specials.size();

  std::size_t total_bytes = 0;
  for (const auto text : texts) total_bytes += text.size();
  if (total_bytes == 0) throw std::invalid_argument("no text to train on (every text is empty)");

  const nlohmann::json split_config = trained_split_pre_tokenizer();
  const auto split =
      hf::make_pre_tokenizer(common::JsonValue(split_config, "trained tokenizer", "pre_tokenizer",
                                               common::ReadOptions{.null_is_absent = true}));
  const unsigned threads =
      options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  const auto words = count_words(texts, split, specials, threads);

  BpeTrainingProgress progress;
  progress.distinct_words = words.size();
  for (const auto& word : words) progress.words += word.count;
  progress.merges_wanted = options.vocab_size - base;
  if (options.progress) options.progress(progress);

  const auto first_byte = static_cast<TokenId>(specials.size());
  BpeWords bpe_words;
  std::vector<TokenId> ids;
  for (const auto& word : words) {
    ids.clear();
    for (const char c : word.bytes) ids.push_back(first_byte + static_cast<unsigned char>(c));
    bpe_words.add(ids, word.count);
  }

  result.tokens = specials;
  for (int b = 0; b < 256; ++b) result.tokens.push_back(byte_token(static_cast<unsigned char>(b)));
  Vocabulary ids_by_text;
  for (std::size_t id = 0; id < result.tokens.size(); ++id) {
    ids_by_text.emplace(result.tokens[id], static_cast<TokenId>(id));
  }
  const std::unordered_set<std::string> special_set(specials.begin(), specials.end());

  progress.phase = BpeTrainingProgress::Phase::kMerging;
  BpeMergeTarget target;
  target.full = [&] { return result.tokens.size() >= options.vocab_size; };
  target.token_for = [&](TokenId left, TokenId right) -> std::optional<TokenId> {
    std::string text = result.tokens[left] + result.tokens[right];
    // A learned token may not read as a special token (its text would mean two ids).
    if (special_set.count(text) != 0) return std::nullopt;
    ++progress.merges;
    if (options.progress) options.progress(progress);
    if (const auto it = ids_by_text.find(text); it != ids_by_text.end()) return it->second;
    const auto id = static_cast<TokenId>(result.tokens.size());
    ids_by_text.emplace(text, id);
    result.tokens.push_back(std::move(text));
    return id;
  };
  result.merges = learn_bpe_merges(std::move(bpe_words), options.min_frequency, target);

  progress.phase = BpeTrainingProgress::Phase::kDone;
  if (options.progress) options.progress(progress);
  return result;
}

}  // namespace qdgen::inference
