// Decoders of tokenizer.json (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace,
// Sequence) and the post-processors that add special tokens (TemplateProcessing, ByteLevel,
// RobertaProcessing, BertProcessing, Sequence).

#include <cctype>

#include "tokenizer_hf_components.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference::hf {
namespace {

constexpr std::int64_t kMaxStrip = 1'000'000;  // Strip's start / stop: characters

std::string byte_level_to_text(const std::vector<std::string>& tokens) {
  std::string bytes;
  for (const auto& token : tokens) {
    for (std::size_t pos = 0; pos < token.size();) {
      const std::size_t begin = pos;
      const int byte = unicode::unicode_to_byte(unicode::next_code_point(token, pos));
      if (byte >= 0) {
        bytes.push_back(static_cast<char>(byte));
      } else {
        bytes.append(token, begin, pos - begin);  // outside the alphabet: keep as written
      }
    }
  }
  return unicode::repair_utf8(bytes);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xNN>" -> NN, else -1.
int byte_token_value(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  const int high = hex_value(token[3]);
  const int low = hex_value(token[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

std::size_t count_prefix_chars(const std::string& token, const std::string& content,
                               std::size_t limit) {
  std::size_t cut = 0;
  for (std::size_t i = 0; i < limit && token.compare(cut, content.size(), content) == 0; ++i) {
    cut += content.size();
  }
  return cut;
}

std::size_t count_suffix_chars(const std::string& token, const std::string& content,
                               std::size_t limit, std::size_t floor) {
  std::size_t end = token.size();
  for (std::size_t i = 0; i < limit && end >= floor + content.size() &&
                          token.compare(end - content.size(), content.size(), content) == 0;
       ++i) {
    end -= content.size();
  }
  return end;
}

}  // namespace

Decoder make_decoder(const common::JsonValue& value,
                     std::shared_ptr<const std::unordered_set<std::string>> added_tokens) {
  common::JsonReader config = value.object();
  const std::string type = config.required("type").string();
  if (type == "ByteLevel") {
    return [added_tokens](std::vector<std::string>& tokens) {
      // Added tokens are text as written; only the runs between them are byte-level.
      std::vector<std::string> out;
      std::vector<std::string> run;
      for (auto& token : tokens) {
        if (added_tokens->count(token) != 0) {
          if (!run.empty()) out.push_back(byte_level_to_text(run));
          run.clear();
          out.push_back(std::move(token));
        } else {
          run.push_back(std::move(token));
        }
      }
      if (!run.empty()) out.push_back(byte_level_to_text(run));
      tokens = std::move(out);
    };
  }
  if (type == "Replace") {
    const auto replace = make_replacer(config);
    return [replace](std::vector<std::string>& tokens) {
      for (auto& token : tokens) token = replace(token);
    };
  }
  if (type == "ByteFallback") {
    return [](std::vector<std::string>& tokens) {
      std::vector<std::string> out;
      std::string bytes;
      for (auto& token : tokens) {
        const int byte = byte_token_value(token);
        if (byte >= 0) {
          bytes.push_back(static_cast<char>(byte));
          continue;
        }
        if (!bytes.empty()) out.push_back(unicode::repair_utf8(bytes));
        bytes.clear();
        out.push_back(std::move(token));
      }
      if (!bytes.empty()) out.push_back(unicode::repair_utf8(bytes));
      tokens = std::move(out);
    };
  }
  if (type == "Fuse") {
    return [](std::vector<std::string>& tokens) {
      std::string joined;
      for (const auto& token : tokens) joined += token;
      tokens.assign(1, std::move(joined));
    };
  }
  if (type == "Strip") {
    const std::string content = config.string("content", " ");
    const auto start = static_cast<std::size_t>(config.integer("start", 0, kMaxStrip, 0));
    const auto stop = static_cast<std::size_t>(config.integer("stop", 0, kMaxStrip, 0));
    return [=](std::vector<std::string>& tokens) {
      if (content.empty()) return;
      for (auto& token : tokens) {
        const std::size_t begin = count_prefix_chars(token, content, start);
        const std::size_t end = count_suffix_chars(token, content, stop, begin);
        token = token.substr(begin, end - begin);
      }
    };
  }
  if (type == "Metaspace") {
    const std::string replacement = config.string("replacement", "\xE2\x96\x81");
    bool strip_first = true;
    if (const auto prepend_scheme = config.optional("prepend_scheme")) {
      strip_first = prepend_scheme->string() != "never";
    } else if (const auto add_prefix_space = config.optional("add_prefix_space")) {
      strip_first = add_prefix_space->boolean();
    }
    return [=](std::vector<std::string>& tokens) {
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        std::string text;
        const std::string& token = tokens[i];
        for (std::size_t pos = 0; pos < token.size();) {
          if (!replacement.empty() && token.compare(pos, replacement.size(), replacement) == 0) {
            text.push_back(' ');
            pos += replacement.size();
          } else {
            text.push_back(token[pos++]);
          }
        }
        if (strip_first && i == 0 && !text.empty() && text.front() == ' ') text.erase(0, 1);
        tokens[i] = std::move(text);
      }
    };
  }
  if (type == "Sequence") {
    std::vector<Decoder> steps;
    for (const auto& step : config.required("decoders").array("an array of decoders"))
      steps.push_back(make_decoder(step, added_tokens));
    return [steps](std::vector<std::string>& tokens) {
      for (const auto& step : steps) step(tokens);
    };
  }
  config.fail("type", "unknown decoder type '" + type +
                          "' (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, "
                          "Sequence)");
}

PostProcessor make_post_processor(const common::JsonValue& value,
                                  const std::function<TokenId(const std::string&)>& id_of) {
  common::JsonReader config = value.object();
  const std::string type = config.required("type").string();
  if (type == "ByteLevel") return [](std::vector<TokenId> ids) { return ids; };
  if (type == "TemplateProcessing") {
    const auto specials = config.optional("special_tokens");
    // Each entry: an id list to insert, or empty for "the sequence goes here".
    std::vector<std::optional<std::vector<TokenId>>> pieces;
    for (const auto& item : config.required("single").array("an array of template pieces")) {
      const std::string what = "{\"Sequence\": ...} or {\"SpecialToken\": {\"id\": ...}}";
      if (!item.json().is_object()) item.expected(what);
      common::JsonReader piece = item.object();
      if (piece.has("Sequence")) {
        pieces.emplace_back(std::nullopt);
        continue;
      }
      const auto special = piece.optional("SpecialToken");
      if (!special) item.expected(what);
      const std::string name = special->object().string("id");
      std::vector<TokenId> ids;
      std::optional<common::JsonValue> listed;
      if (specials) {
        if (const auto entry = specials->object().optional(name))
          listed = entry->object().optional("ids");
      }
      if (listed) {
        for (const auto& id : listed->array("an array of token ids"))
          ids.push_back(read_token_id(id));
      } else {
        ids.push_back(id_of(name));
      }
      pieces.emplace_back(std::move(ids));
    }
    return [pieces](std::vector<TokenId> ids) {
      std::vector<TokenId> out;
      for (const auto& piece : pieces) {
        if (piece) {
          out.insert(out.end(), piece->begin(), piece->end());
        } else {
          out.insert(out.end(), ids.begin(), ids.end());
        }
      }
      return out;
    };
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    const auto token_id = [&](const char* key) {
      return read_token_id(config.required(key).array("[token, id]", 2, 2)[1]);
    };
    const TokenId cls = token_id("cls");
    const TokenId sep = token_id("sep");
    return [cls, sep](std::vector<TokenId> ids) {
      ids.insert(ids.begin(), cls);
      ids.push_back(sep);
      return ids;
    };
  }
  if (type == "Sequence") {
    std::vector<PostProcessor> steps;
    for (const auto& step : config.required("processors").array("an array of post-processors"))
      steps.push_back(make_post_processor(step, id_of));
    return [steps](std::vector<TokenId> ids) {
      for (const auto& step : steps) ids = step(std::move(ids));
      return ids;
    };
  }
  config.fail("type", "unknown post_processor type '" + type +
                          "' (supported: TemplateProcessing, ByteLevel, RobertaProcessing, "
                          "BertProcessing, Sequence)");
}

}  // namespace qdgen::inference::hf
