#pragma once
// The ICU services the tokenizers need: Unicode normalisation forms and regular expressions
// (ICU's syntax covers what tokenizer.json files use: \p{L}, \p{N}, (?i:...), lookahead).
// Both work on UTF-8 directly; match offsets are byte offsets.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qdgen::inference::unicode {

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };
std::string normalize(std::string_view utf8, NormalForm form);
std::string to_lower(std::string_view utf8);
// Unicode numeric (general categories Nd, Nl, No), as Rust's char::is_numeric.
bool is_numeric(char32_t cp);

class Regex {
 public:
  // Throws std::invalid_argument with ICU's reason when the pattern does not compile.
  explicit Regex(std::string_view pattern_utf8);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Non-empty matches, in order, as [begin, end) byte offsets into text.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;
  std::string replace_all(std::string_view text, std::string_view replacement) const;
  // Whether the whole of `text` matches (Python's re.fullmatch).
  bool matches(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Oniguruma (the Rust tokenizers' engine) means Unicode White_Space by \s; ICU does not.
std::string oniguruma_to_icu(std::string_view pattern);

}  // namespace qdgen::inference::unicode
