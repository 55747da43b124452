// Normalizers of tokenizer.json: NFC/NFD/NFKC/NFKD, Lowercase, Strip, Prepend, Replace and
// Sequence.

#include "tokenizer_hf_components.hpp"
#include "unicode_icu.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference::hf {

Normalizer make_normalizer(const common::JsonValue& section) {
  common::JsonReader config = section.object();
  const std::string type = config.required("type").string();
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
    const std::string prepend = config.string("prepend", "");
    // Sections are never empty here: the tokenizer skips empty ones before normalising.
    return [prepend](std::string_view text) { return prepend + std::string(text); };
  }
  if (type == "Replace") return make_replacer(config);
  if (type == "Strip") {
    const bool left = config.boolean("strip_left", true);
    const bool right = config.boolean("strip_right", true);
    return [left, right](std::string_view text) {
      if (left) text = unicode::trim_js_whitespace_start(text);
      if (right) text = unicode::trim_js_whitespace_end(text);
      return std::string(text);
    };
  }
  if (type == "Sequence") {
    std::vector<Normalizer> steps;
    for (const auto& step : config.required("normalizers").array("an array of normalizers"))
      steps.push_back(make_normalizer(step));
    return [steps](std::string_view text) {
      std::string value(text);
      for (const auto& step : steps) value = step(value);
      return value;
    };
  }
  config.fail("type", "unknown normalizer type '" + type +
                          "' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, "
                          "Sequence)");
}

}  // namespace qdgen::inference::hf
