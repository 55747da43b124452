// Normalizers of tokenizer.json: NFC/NFD/NFKC/NFKD, Lowercase, Strip, Prepend, Replace and
// Sequence.

#include "tokenizer_hf_components.hpp"
#include "unicode_icu.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference::hf {

Normalizer make_normalizer(const nlohmann::json& config, const JsonSite& site) {
  const std::string type = require(config, "type", site).is_string()
                               ? config["type"].get<std::string>()
                               : std::string("(not a string)");
  using unicode::NormalForm;
  const auto form = [](NormalForm f) {
    return [f](std::string_view text) { return unicode::normalize(text, f); };
  };
  if (type == "NFC") return form(NormalForm::kNfc);
  if (type == "NFD") return form(NormalForm::kNfd);
  if (type == "NFKC") return form(NormalForm::kNfkc);
  if (type == "NFKD") return form(NormalForm::kNfkd);
  if (type == "Lowercase") return [](std::string_view text) { return unicode::to_lower(text); };
  if (type == "Prepend") {
    const std::string prepend = string_or(config, "prepend", "", site);
    // Sections are never empty here: the tokenizer skips empty ones before normalising.
    return [prepend](std::string_view text) { return prepend + std::string(text); };
  }
  if (type == "Replace") return make_replacer(config, site);
  if (type == "Strip") {
    const bool left = bool_or(config, "strip_left", true, site);
    const bool right = bool_or(config, "strip_right", true, site);
    return [left, right](std::string_view text) {
      if (left) text = unicode::trim_js_whitespace_start(text);
      if (right) text = unicode::trim_js_whitespace_end(text);
      return std::string(text);
    };
  }
  if (type == "Sequence") {
    const auto& list = require(config, "normalizers", site);
    if (!list.is_array()) site.at("normalizers").fail("expected an array");
    std::vector<Normalizer> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      steps.push_back(make_normalizer(list[i], site.at("normalizers").at(i)));
    }
    return [steps](std::string_view text) {
      std::string value(text);
      for (const auto& step : steps) value = step(value);
      return value;
    };
  }
  site.at("type").fail("unknown normalizer type '" + type +
                       "' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, "
                       "Sequence)");
}

}  // namespace qdgen::inference::hf
