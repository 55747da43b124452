// Pre-tokenizers of tokenizer.json: ByteLevel, Split, Digits, Metaspace, Whitespace,
// WhitespaceSplit and Sequence.

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

#include "tokenizer_hf_components.hpp"
#include "unicode_icu.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference::hf {
namespace {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Segment {
  std::size_t begin;
  std::size_t end;
  bool is_match;
};

// Rust tokenizers' SplitDelimiterBehavior over a text cut into match/non-match segments.
void apply_behavior(std::string_view text, const std::vector<Segment>& segments, Behavior behavior,
                    std::vector<std::string>& out) {
  std::vector<Segment> kept;
  switch (behavior) {
    case Behavior::kIsolated:
      kept = segments;
      break;
    case Behavior::kRemoved:
      for (const auto& s : segments)
        if (!s.is_match) kept.push_back(s);
      break;
    case Behavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const auto& s : segments) {
        if (s.is_match && !previous_match && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
    }
    case Behavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->is_match && !previous_match && !kept.empty()) {
          kept.back().begin = it->begin;
        } else {
          kept.push_back(*it);
        }
        previous_match = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
    case Behavior::kContiguous: {
      bool previous_match = false;
      for (const auto& s : segments) {
        if (s.is_match == previous_match && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back(s);
        }
        previous_match = s.is_match;
      }
      break;
    }
  }
  for (const auto& s : kept) {
    if (s.end > s.begin) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  }
}

std::vector<Segment> segments_from_matches(
    std::size_t size, const std::vector<std::pair<std::size_t, std::size_t>>& matches,
    bool invert) {
  std::vector<Segment> segments;
  std::size_t last = 0;
  for (const auto& [begin, end] : matches) {
    if (begin > last) segments.push_back({last, begin, invert});
    segments.push_back({begin, end, !invert});
    last = end;
  }
  if (last < size) segments.push_back({last, size, invert});
  return segments;
}

// Each character satisfying the predicate is one match.
template <typename Predicate>
std::vector<Segment> segments_from_chars(std::string_view text, Predicate is_match) {
  std::vector<Segment> segments;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t begin = pos;
    const bool match = is_match(unicode::next_code_point(text, pos));
    if (!match && !segments.empty() && !segments.back().is_match) {
      segments.back().end = pos;
    } else {
      segments.push_back({begin, pos, match});
    }
  }
  return segments;
}

// Applies a per-piece splitter to every piece.
template <typename Split>
PreTokenizer per_piece(Split split) {
  return [split](std::vector<std::string>& pieces, std::size_t section_index) {
    std::vector<std::string> out;
    out.reserve(pieces.size() * 2);
    for (const auto& piece : pieces) split(piece, section_index, out);
    pieces = std::move(out);
  };
}

Behavior parse_behavior(common::JsonReader& config) {
  const std::string name = config.string("behavior", "Isolated");
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  config.fail("behavior",
              "unknown behavior '" + name +
                  "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
                  "Contiguous)");
}

std::shared_ptr<unicode::Regex> compile(const std::string& pattern,
                                        const common::JsonValue& where) {
  try {
    return std::make_shared<unicode::Regex>(pattern);
  } catch (const std::invalid_argument& e) {
    where.fail("regex '" + pattern + "' does not compile: " + e.what());
  }
}

// GPT-2's pattern; \s spelled out as JavaScript's set, which the reference ids were made with.
constexpr const char* kJsSpace = R"(\x{09}\x{0A}\x{0B}\x{0C}\x{0D}\p{Z}\x{FEFF})";

std::string gpt2_pattern() {
  const std::string ws = kJsSpace;
  return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^)" + ws + R"(\p{L}\p{N}]+|[)" + ws +
         "]+(?![^" + ws + "])|[" + ws + "]+";
}

const std::array<std::string, 256>& byte_level_alphabet() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    for (int b = 0; b < 256; ++b) unicode::append_utf8(t[b], unicode::bytes_to_unicode()[b]);
    return t;
  }();
  return table;
}

PreTokenizer make_byte_level(common::JsonReader& config) {
  const bool add_prefix_space = config.boolean("add_prefix_space", true);
  const bool use_regex = config.boolean("use_regex", true);
  const auto regex = use_regex ? compile(gpt2_pattern(), config.value()) : nullptr;
  return per_piece([=](const std::string& piece, std::size_t, std::vector<std::string>& out) {
    const bool prefix = add_prefix_space && (piece.empty() || piece.front() != ' ');
    std::string text = prefix ? " " + piece : piece;
    std::vector<std::string> parts;
    if (regex) {
      apply_behavior(text, segments_from_matches(text.size(), regex->find_all(text), false),
                     Behavior::kIsolated, parts);
    } else {
      parts.push_back(std::move(text));
    }
    const auto& alphabet = byte_level_alphabet();
    for (const auto& part : parts) {
      std::string mapped;
      mapped.reserve(part.size() * 2);
      for (const char c : part) mapped += alphabet[static_cast<unsigned char>(c)];
      out.push_back(std::move(mapped));
    }
  });
}

PreTokenizer make_split(common::JsonReader& config) {
  const common::JsonValue pattern_value = config.required("pattern");
  const nlohmann::json& pattern = pattern_value.json();
  std::string source;
  if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
    source = unicode::oniguruma_to_icu(pattern["Regex"].get<std::string>());
  } else if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
    // A literal: quote it for ICU.
    source = "\\Q" + pattern["String"].get<std::string>() + "\\E";
  } else {
    pattern_value.expected("{\"String\": ...} or {\"Regex\": ...}");
  }
  const auto regex = compile(source, pattern_value);
  const Behavior behavior = parse_behavior(config);
  const bool invert = config.boolean("invert", false);
  return per_piece([=](const std::string& piece, std::size_t, std::vector<std::string>& out) {
    apply_behavior(piece, segments_from_matches(piece.size(), regex->find_all(piece), invert),
                   behavior, out);
  });
}

PreTokenizer make_metaspace(common::JsonReader& config) {
  const std::string replacement = config.string("replacement", "\xE2\x96\x81");
  std::string scheme = "always";
  if (const auto prepend_scheme = config.optional("prepend_scheme")) {
    scheme = prepend_scheme->string();
  } else if (const auto add_prefix_space = config.optional("add_prefix_space")) {
    scheme = add_prefix_space->boolean() ? "always" : "never";
  }
  if (scheme != "always" && scheme != "first" && scheme != "never") {
    config.fail("prepend_scheme",
                "unknown prepend_scheme '" + scheme + "' (expected always, first or never)");
  }
  const bool split = config.boolean("split", true);
  return per_piece(
      [=](const std::string& piece, std::size_t section_index, std::vector<std::string>& out) {
        std::string text;
        for (const char c : piece) {
          if (c == ' ') {
            text += replacement;
          } else {
            text.push_back(c);
          }
        }
        const bool prepend = scheme == "always" || (scheme == "first" && section_index == 0);
        if (prepend && text.rfind(replacement, 0) != 0) text = replacement + text;
        if (!split || replacement.empty()) {
          out.push_back(std::move(text));
          return;
        }
        std::vector<Segment> segments;
        std::size_t last = 0;
        for (std::size_t at = text.find(replacement); at != std::string::npos;
             at = text.find(replacement, last)) {
          if (at > last) segments.push_back({last, at, false});
          segments.push_back({at, at + replacement.size(), true});
          last = at + replacement.size();
        }
        if (last < text.size()) segments.push_back({last, text.size(), false});
        apply_behavior(text, segments, Behavior::kMergedWithNext, out);
      });
}

}  // namespace

PreTokenizer make_pre_tokenizer(const common::JsonValue& value) {
  common::JsonReader config = value.object();
  const std::string type = config.required("type").string();
  if (type == "ByteLevel") return make_byte_level(config);
  if (type == "Split") return make_split(config);
  if (type == "Metaspace") return make_metaspace(config);
  if (type == "Digits") {
    const bool individual = config.boolean("individual_digits", false);
    const Behavior behavior = individual ? Behavior::kIsolated : Behavior::kContiguous;
    return per_piece([=](const std::string& piece, std::size_t, std::vector<std::string>& out) {
      apply_behavior(piece, segments_from_chars(piece, unicode::is_numeric), behavior, out);
    });
  }
  if (type == "Whitespace") {
    const auto regex = compile(R"(\w+|[^\w\s]+)", value);
    return per_piece([=](const std::string& piece, std::size_t, std::vector<std::string>& out) {
      apply_behavior(piece, segments_from_matches(piece.size(), regex->find_all(piece), true),
                     Behavior::kRemoved, out);
    });
  }
  if (type == "WhitespaceSplit") {
    return per_piece([](const std::string& piece, std::size_t, std::vector<std::string>& out) {
      apply_behavior(piece, segments_from_chars(piece, unicode::is_js_whitespace),
                     Behavior::kRemoved, out);
    });
  }
  if (type == "Sequence") {
    std::vector<PreTokenizer> steps;
    for (const auto& step : config.required("pretokenizers").array("an array of pre-tokenizers"))
      steps.push_back(make_pre_tokenizer(step));
    return [steps](std::vector<std::string>& pieces, std::size_t section_index) {
      for (const auto& step : steps) step(pieces, section_index);
    };
  }
  config.fail("type", "unknown pre_tokenizer type '" + type +
                          "' (supported: ByteLevel, Split, Digits, Metaspace, Whitespace, "
                          "WhitespaceSplit, Sequence)");
}

}  // namespace qdgen::inference::hf
