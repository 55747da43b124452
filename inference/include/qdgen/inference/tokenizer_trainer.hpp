#pragma once
// Byte-level BPE training: GPT-2's byte-to-unicode map, a Llama 3-style pre-tokenizer split,
// special tokens as added tokens, saved as a Hugging Face tokenizer.json (+ tokenizer_config.json)
// that load_tokenizer and the Hugging Face reference encode alike. Deterministic: the same
// texts and options give the same file bytes, whatever the number of threads.
// Ids: the special tokens first (in the order given), then the 256 bytes in byte order, then
// one token per merge. A merge joins the most frequent adjacent pair of tokens; ties go to the
// pair with the smaller left id, then the smaller right id.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference {

struct BpeTrainingProgress {
  enum class Phase { kCounted, kMerging, kDone };
  Phase phase = Phase::kCounted;
  std::uint64_t words = 0;         // pre-tokenized words in the corpus
  std::size_t distinct_words = 0;  // of which distinct
  std::size_t merges = 0;          // learned so far
  std::size_t merges_wanted = 0;   // vocab_size - specials - 256
};

struct BpeTrainingOptions {
  std::size_t vocab_size = 8192;  // special tokens + 256 bytes + merges
  std::vector<std::string> special_tokens{"<|endoftext|>"};
  std::uint64_t min_frequency = 2;  // a pair is merged only when it occurs this often
  // tokenizer_config.json's bos_token and eos_token: special tokens; empty means the first
  // special token (GPT-2's convention: one end-of-text token between documents serves both).
  std::string bos_token;
  std::string eos_token;
  unsigned threads = 0;  // for counting words; 0: one per hardware thread
  std::function<void(const BpeTrainingProgress&)> progress;  // called on the calling thread
};

struct TrainedBpeTokenizer {
  std::vector<std::string> tokens;  // by id, as tokenizer.json writes them (byte-level text)
  std::size_t special_count = 0;    // ids 0 .. special_count-1 are the special tokens
  std::vector<std::pair<TokenId, TokenId>> merges;  // in the order learned
  std::string bos_token;
  std::string eos_token;

  std::string tokenizer_json() const;
  std::string tokenizer_config_json() const;
};

// Throws std::invalid_argument for bad options (e.g. a vocabulary smaller than the bytes
// plus the special tokens) or texts without a single byte. Fewer merges than asked are
// learned when no pair occurs min_frequency times any more.
TrainedBpeTokenizer train_bpe_tokenizer(std::span<const std::string_view> texts,
                                        const BpeTrainingOptions& options);

// Throws when save_trained_tokenizer would refuse `path`: the name tokenizer_config.json, or
// (without overwrite) an existing tokenizer.json or tokenizer_config.json. Lets a command
// refuse before hours of work rather than after.
void check_tokenizer_output(const std::filesystem::path& path, bool overwrite);

// Writes tokenizer.json at `path` and tokenizer_config.json beside it, each atomically (a
// temporary file in the same folder, renamed into place). Refuses to replace either file
// unless `overwrite`.
void save_trained_tokenizer(const TrainedBpeTokenizer& tokenizer, const std::filesystem::path& path,
                            bool overwrite);

}  // namespace qdgen::inference
