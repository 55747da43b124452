// Decoders of tokenizer.json (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace,
// Sequence) and the post-processors that add special tokens (TemplateProcessing, ByteLevel,
// RobertaProcessing, BertProcessing, Sequence).

#include <cctype>

#include "tokenizer_hf_components.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference::hf {
namespace {

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

Decoder make_decoder(const nlohmann::json& config, const JsonSite& site,
                     std::shared_ptr<const std::unordered_set<std::string>> added_tokens) {
  const auto& type_value = require(config, "type", site);
  const std::string type =
      type_value.is_string() ? type_value.get<std::string>() : type_value.dump();
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
    const auto replace = make_replacer(config, site);
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
    const std::string content = string_or(config, "content", " ", site);
    const auto count = [&](const char* key) -> std::size_t {
      const auto it = config.find(key);
      if (it == config.end()) return 0;
      if (!it->is_number_unsigned()) site.at(key).fail("expected a count >= 0, got " + it->dump());
      return it->get<std::size_t>();
    };
    const std::size_t start = count("start");
    const std::size_t stop = count("stop");
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
    const std::string replacement = string_or(config, "replacement", "\xE2\x96\x81", site);
    bool strip_first = true;
    if (config.contains("prepend_scheme") && config["prepend_scheme"].is_string()) {
      strip_first = config["prepend_scheme"].get<std::string>() != "never";
    } else if (config.contains("add_prefix_space")) {
      strip_first = bool_or(config, "add_prefix_space", true, site);
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
    const auto& list = require(config, "decoders", site);
    if (!list.is_array()) site.at("decoders").fail("expected an array");
    std::vector<Decoder> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      steps.push_back(make_decoder(list[i], site.at("decoders").at(i), added_tokens));
    }
    return [steps](std::vector<std::string>& tokens) {
      for (const auto& step : steps) step(tokens);
    };
  }
  site.at("type").fail("unknown decoder type '" + type +
                       "' (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, "
                       "Sequence)");
}

PostProcessor make_post_processor(const nlohmann::json& config, const JsonSite& site,
                                  const std::function<TokenId(const std::string&)>& id_of) {
  const auto& type_value = require(config, "type", site);
  const std::string type =
      type_value.is_string() ? type_value.get<std::string>() : type_value.dump();
  if (type == "ByteLevel") return [](std::vector<TokenId> ids) { return ids; };
  if (type == "TemplateProcessing") {
    const auto& single = require(config, "single", site);
    if (!single.is_array()) site.at("single").fail("expected an array");
    // Each entry: an id list to insert, or empty for "the sequence goes here".
    std::vector<std::optional<std::vector<TokenId>>> pieces;
    for (std::size_t i = 0; i < single.size(); ++i) {
      const JsonSite item_site = site.at("single").at(i);
      const auto& item = single[i];
      if (item.contains("Sequence")) {
        pieces.emplace_back(std::nullopt);
      } else if (item.contains("SpecialToken") && item["SpecialToken"].contains("id")) {
        const std::string name = item["SpecialToken"]["id"].get<std::string>();
        std::vector<TokenId> ids;
        const auto specials = config.find("special_tokens");
        if (specials != config.end() && specials->contains(name) &&
            (*specials)[name].contains("ids")) {
          for (const auto& id : (*specials)[name]["ids"]) ids.push_back(id.get<TokenId>());
        } else {
          ids.push_back(id_of(name));
        }
        pieces.emplace_back(std::move(ids));
      } else {
        item_site.fail("expected {\"Sequence\": ...} or {\"SpecialToken\": {\"id\": ...}}");
      }
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
      const auto& pair = require(config, key, site);
      if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_integer()) {
        site.at(key).fail("expected [token, id]");
      }
      return pair[1].get<TokenId>();
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
    const auto& list = require(config, "processors", site);
    if (!list.is_array()) site.at("processors").fail("expected an array");
    std::vector<PostProcessor> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      steps.push_back(make_post_processor(list[i], site.at("processors").at(i), id_of));
    }
    return [steps](std::vector<TokenId> ids) {
      for (const auto& step : steps) ids = step(std::move(ids));
      return ids;
    };
  }
  site.at("type").fail("unknown post_processor type '" + type +
                       "' (supported: TemplateProcessing, ByteLevel, RobertaProcessing, "
                       "BertProcessing, Sequence)");
}

}  // namespace qdgen::inference::hf
