#include "tokenizer_hf_components.hpp"

#include <memory>
#include <stdexcept>

#include "unicode_icu.hpp"

namespace qdgen::inference::hf {

TokenId read_token_id(const common::JsonValue& value) {
  return static_cast<TokenId>(value.integer(0, kMaxVocabulary - 1));
}

std::function<std::string(std::string_view)> make_replacer(common::JsonReader& config) {
  const common::JsonValue pattern_site = config.required("pattern");
  const nlohmann::json& pattern = pattern_site.json();
  const std::string content = config.string("content", "");
  if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
    const std::string literal = pattern["String"].get<std::string>();
    if (literal.empty()) pattern_site.fail("an empty String pattern matches nothing useful");
    return [literal, content](std::string_view text) {
      std::string out;
      std::size_t last = 0;
      for (std::size_t at = text.find(literal); at != std::string_view::npos;
           at = text.find(literal, last)) {
        out.append(text.substr(last, at - last));
        out.append(content);
        last = at + literal.size();
      }
      out.append(text.substr(last));
      return out;
    };
  }
  if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
    const std::string source = pattern["Regex"].get<std::string>();
    std::shared_ptr<unicode::Regex> regex;
    try {
      regex = std::make_shared<unicode::Regex>(unicode::oniguruma_to_icu(source));
    } catch (const std::invalid_argument& e) {
      pattern_site.fail("regex '" + source + "' does not compile: " + e.what());
    }
    return [regex, content](std::string_view text) { return regex->replace_all(text, content); };
  }
  pattern_site.expected("{\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace qdgen::inference::hf
