#include "unicode_icu.hpp"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utext.h>

#include <stdexcept>

namespace qdgen::inference::unicode {
namespace {

icu::UnicodeString to_icu(std::string_view utf8) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
}

std::string to_utf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

// Closes a UText opened over a UTF-8 buffer, whatever path leaves the scope.
struct Utf8Text {
  UText* text = nullptr;
  explicit Utf8Text(std::string_view utf8) {
    UErrorCode status = U_ZERO_ERROR;
    text = utext_openUTF8(nullptr, utf8.data(), static_cast<int64_t>(utf8.size()), &status);
    if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU: ") + u_errorName(status));
  }
  ~Utf8Text() { utext_close(text); }
  Utf8Text(const Utf8Text&) = delete;
  Utf8Text& operator=(const Utf8Text&) = delete;
};

}  // namespace

std::string normalize(std::string_view utf8, NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = nullptr;
  switch (form) {
    case NormalForm::kNfc:
      normalizer = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalForm::kNfd:
      normalizer = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalForm::kNfkc:
      normalizer = icu::Normalizer2::getNFKCInstance(status);
      break;
    case NormalForm::kNfkd:
      normalizer = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU: ") + u_errorName(status));
  const icu::UnicodeString in = to_icu(utf8);
  if (normalizer->isNormalized(in, status) && U_SUCCESS(status)) return std::string(utf8);
  status = U_ZERO_ERROR;
  const icu::UnicodeString out = normalizer->normalize(in, status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU: ") + u_errorName(status));
  return to_utf8(out);
}

std::string to_lower(std::string_view utf8) {
  icu::UnicodeString s = to_icu(utf8);
  s.toLower(icu::Locale::getRoot());
  return to_utf8(s);
}

bool is_numeric(char32_t cp) {
  const int8_t type = u_charType(static_cast<UChar32>(cp));
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

// ICU counts a match's work in steps of its engine, "typically on the order of milliseconds"
// each. Tokenizer patterns split words and take microseconds per match; a pattern that
// backtracks catastrophically, such as (a+)+$, would take minutes on a short line. The limit
// applies to each match (one word), so long texts are not limited by it.
constexpr int32_t kRegexWorkLimit = 2000;

struct Regex::Impl {
  std::unique_ptr<icu::RegexPattern> pattern;
  std::string source;  // the pattern as given, for messages

  std::unique_ptr<icu::RegexMatcher> matcher(UText* text) const {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> m(pattern->matcher(status));
    if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU: ") + u_errorName(status));
    m->setTimeLimit(kRegexWorkLimit, status);
    m->reset(text);
    return m;
  }

  [[noreturn]] void fail(UErrorCode status, std::size_t text_bytes) const {
    if (status == U_REGEX_TIME_OUT || status == U_REGEX_STACK_OVERFLOW) {
      throw std::runtime_error("regex '" + source + "' exceeded its work limit on a text of " +
                               std::to_string(text_bytes) +
                               " bytes (a pattern that backtracks without bound, such as "
                               "(a+)+$?); simplify the pattern");
    }
    throw std::runtime_error("ICU regex '" + source + "': " + u_errorName(status));
  }
};

Regex::Regex(std::string_view pattern_utf8) : impl_(std::make_unique<Impl>()) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error{};
  impl_->source = std::string(pattern_utf8);
  impl_->pattern.reset(icu::RegexPattern::compile(to_icu(pattern_utf8), 0, parse_error, status));
  if (U_FAILURE(status)) {
    throw std::invalid_argument(std::string(u_errorName(status)) + " at offset " +
                                std::to_string(parse_error.offset));
  }
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<std::pair<std::size_t, std::size_t>> Regex::find_all(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> matches;
  if (text.empty()) return matches;
  UErrorCode status = U_ZERO_ERROR;
  Utf8Text utext(text);
  const auto matcher = impl_->matcher(utext.text);
  while (matcher->find(status) && U_SUCCESS(status)) {
    const int64_t begin = matcher->start64(status);
    const int64_t end = matcher->end64(status);
    if (end > begin)
      matches.emplace_back(static_cast<std::size_t>(begin), static_cast<std::size_t>(end));
  }
  if (U_FAILURE(status)) impl_->fail(status, text.size());
  return matches;
}

bool Regex::matches(std::string_view text) const {
  UErrorCode status = U_ZERO_ERROR;
  Utf8Text utext(text);
  const auto matcher = impl_->matcher(utext.text);
  const bool whole = matcher->matches(status);
  if (U_FAILURE(status)) impl_->fail(status, text.size());
  return whole;
}

std::string Regex::replace_all(std::string_view text, std::string_view replacement) const {
  std::string out;
  std::size_t last = 0;
  for (const auto& [begin, end] : find_all(text)) {
    out.append(text.substr(last, begin - last));
    out.append(replacement);
    last = end;
  }
  out.append(text.substr(last));
  return out;
}

std::string oniguruma_to_icu(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '\\' || i + 1 == pattern.size()) {
      out.push_back(pattern[i]);
      continue;
    }
    const char next = pattern[++i];
    if (next == 's') {
      out += "\\p{White_Space}";
    } else if (next == 'S') {
      out += "\\P{White_Space}";
    } else {
      out.push_back('\\');
      out.push_back(next);
    }
  }
  return out;
}

}  // namespace qdgen::inference::unicode
