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

Behavior parse_behavior(const nlohmann::json& config, const JsonSite& site) {
  const std::string name = string_or(config, "behavior", "Isolated", site);
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  site.at("behavior")
      .fail("unknown behavior '" + name +
            "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or "
            "Contiguous)");
}

std::shared_ptr<unicode::Regex> compile(const std::string& pattern, const JsonSite& site) {
  try {
    return std::make_shared<unicode::Regex>(pattern);
  } catch (const std::invalid_argument& e) {
    site.fail("regex '" + pattern + "' does not compile: " + e.what());
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

PreTokenizer make_byte_level(const nlohmann::json& config, const JsonSite& site) {
  const bool add_prefix_space = bool_or(config, "add_prefix_space", true, site);
  const bool use_regex = bool_or(config, "use_regex", true, site);
  const auto regex = use_regex ? compile(gpt2_pattern(), site) : nullptr;
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

PreTokenizer make_split(const nlohmann::json& config, const JsonSite& site) {
  const auto& pattern = require(config, "pattern", site);
  std::string source;
  if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
    source = unicode::oniguruma_to_icu(pattern["Regex"].get<std::string>());
  } else if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
    // A literal: quote it for ICU.
    source = "\\Q" + pattern["String"].get<std::string>() + "\\E";
  } else {
    site.at("pattern").fail("expected {\"String\": ...} or {\"Regex\": ...}, got " +
                            pattern.dump());
  }
  const auto regex = compile(source, site.at("pattern"));
  const Behavior behavior = parse_behavior(config, site);
  const bool invert = bool_or(config, "invert", false, site);
  return per_piece([=](const std::string& piece, std::size_t, std::vector<std::string>& out) {
    apply_behavior(piece, segments_from_matches(piece.size(), regex->find_all(piece), invert),
                   behavior, out);
  });
}

PreTokenizer make_metaspace(const nlohmann::json& config, const JsonSite& site) {
  const std::string replacement = string_or(config, "replacement", "\xE2\x96\x81", site);
  std::string scheme = "always";
  if (config.contains("prepend_scheme") && !config["prepend_scheme"].is_null()) {
    scheme = string_or(config, "prepend_scheme", "always", site);
  } else if (config.contains("add_prefix_space")) {
    scheme = bool_or(config, "add_prefix_space", true, site) ? "always" : "never";
  }
  if (scheme != "always" && scheme != "first" && scheme != "never") {
    site.at("prepend_scheme")
        .fail("unknown prepend_scheme '" + scheme + "' (expected always, first or never)");
  }
  const bool split = bool_or(config, "split", true, site);
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

PreTokenizer make_pre_tokenizer(const nlohmann::json& config, const JsonSite& site) {
  const auto& type_value = require(config, "type", site);
  const std::string type =
      type_value.is_string() ? type_value.get<std::string>() : type_value.dump();
  if (type == "ByteLevel") return make_byte_level(config, site);
  if (type == "Split") return make_split(config, site);
  if (type == "Metaspace") return make_metaspace(config, site);
  if (type == "Digits") {
    const bool individual = bool_or(config, "individual_digits", false, site);
    const Behavior behavior = individual ? Behavior::kIsolated : Behavior::kContiguous;
    return per_piece([=](const std::string& piece, std::size_t, std::vector<std::string>& out) {
      apply_behavior(piece, segments_from_chars(piece, unicode::is_numeric), behavior, out);
    });
  }
  if (type == "Whitespace") {
    const auto regex = compile(R"(\w+|[^\w\s]+)", site);
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
    const auto& list = require(config, "pretokenizers", site);
    if (!list.is_array()) site.at("pretokenizers").fail("expected an array");
    std::vector<PreTokenizer> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      steps.push_back(make_pre_tokenizer(list[i], site.at("pretokenizers").at(i)));
    }
    return [steps](std::vector<std::string>& pieces, std::size_t section_index) {
      for (const auto& step : steps) step(pieces, section_index);
    };
  }
  site.at("type").fail("unknown pre_tokenizer type '" + type +
                       "' (supported: ByteLevel, Split, Digits, Metaspace, Whitespace, "
                       "WhitespaceSplit, Sequence)");
}

}  // namespace qdgen::inference::hf
