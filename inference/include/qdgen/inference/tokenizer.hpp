#pragma once
// Tokenizers: Hugging Face tokenizer.json (BPE: byte-level as in GPT-2/Llama 3/Qwen2, or
// SentencePiece-style with byte fallback as in Llama 2) and llama2.c's tokenizer.bin.
// Encoding reproduces the Hugging Face reference ids; see README "Tokenizers".
// Errors are std::runtime_error with one line naming the file, key or value at fault.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qdgen::inference {

using TokenId = std::int32_t;
// Token ids lie in [0, kMaxVocabulary): files with larger ids or vocab_size are refused, so
// no id table beyond 2^24 entries is ever allocated.
inline constexpr std::int64_t kMaxVocabulary = std::int64_t{1} << 24;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Invalid UTF-8 in text: tokenizer.json tokenizers replace each invalid sequence by U+FFFD
  // first; llama2.c's tokenizer byte-falls-back on the raw bytes, as run.c does.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special_tokens) const = 0;
  // Throws when an id is outside the vocabulary.
  virtual std::string decode(std::span<const TokenId> ids, bool skip_special_tokens) const = 0;

  virtual std::size_t vocab_size() const = 0;  // ids are 0 .. vocab_size()-1
  virtual std::optional<TokenId> token_to_id(std::string_view token) const = 0;
  virtual std::string id_to_token(TokenId id) const = 0;  // throws outside the vocabulary
  virtual std::optional<TokenId> bos_id() const = 0;
  virtual std::optional<TokenId> eos_id() const = 0;
};

// A tokenizer.json (a tokenizer_config.json beside it supplies bos/eos and
// clean_up_tokenization_spaces) or a llama2.c tokenizer.bin; the content decides which.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path);

// Turns ids into text as they are generated: push() returns the text that became complete,
// holding back tokens that end inside a UTF-8 character (e.g. half an emoji).
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = true);
  std::string push(TokenId id);
  std::string finish();  // the held-back rest (incomplete characters become U+FFFD)

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::vector<TokenId> window_;
  std::string prefix_;
  std::size_t prefix_index_ = 0;
};

}  // namespace qdgen::inference
