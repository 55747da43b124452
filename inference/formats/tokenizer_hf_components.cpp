#include "tokenizer_hf_components.hpp"

#include <memory>
#include <stdexcept>

#include "unicode_icu.hpp"

namespace qdgen::inference::hf {

void JsonSite::fail(const std::string& message) const {
  throw std::runtime_error(file + ": " + key + ": " + message);
}

const nlohmann::json& require(const nlohmann::json& object, const char* name,
                              const JsonSite& site) {
  if (!object.is_object()) site.fail("expected a JSON object");
  const auto it = object.find(name);
  if (it == object.end()) site.fail(std::string("missing key '") + name + "'");
  return *it;
}

std::string string_or(const nlohmann::json& object, const char* name, const std::string& fallback,
                      const JsonSite& site) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_string()) site.at(name).fail("expected a string, got " + it->dump());
  return it->get<std::string>();
}

bool bool_or(const nlohmann::json& object, const char* name, bool fallback, const JsonSite& site) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) site.at(name).fail("expected true or false, got " + it->dump());
  return it->get<bool>();
}

std::function<std::string(std::string_view)> make_replacer(const nlohmann::json& config,
                                                           const JsonSite& site) {
  const JsonSite pattern_site = site.at("pattern");
  const auto& pattern = require(config, "pattern", site);
  const std::string content = string_or(config, "content", "", site);
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
  pattern_site.fail("expected {\"String\": ...} or {\"Regex\": ...}, got " + pattern.dump());
}

}  // namespace qdgen::inference::hf
