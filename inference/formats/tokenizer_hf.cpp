// A tokenizer.json tokenizer. The encode flow is that of Hugging Face tokenizers.js, which
// made the reference ids: added tokens are cut out of the raw text first (those with
// normalized=false), the rest is normalised, then added tokens are cut out of the normalised
// text (those with normalized=true, matched in their normalised form), and what remains goes
// through the pre-tokenizer and the BPE model.

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "tokenizer_bpe.hpp"
#include "tokenizer_hf_components.hpp"
#include "tokenizer_loaders.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference {
namespace {

using hf::JsonSite;
using nlohmann::json;

struct AddedToken {
  std::string content;
  TokenId id = 0;
  bool lstrip = false;
  bool rstrip = false;
  bool special = false;
  bool normalized = true;
};

// Leftmost-longest dictionary matching, the way the reference cuts added tokens out of text.
class TokenTrie {
 public:
  void insert(std::string_view word) {
    int node = 0;
    for (const char c : word) {
      const auto byte = static_cast<unsigned char>(c);
      int child = find_child(node, byte);
      if (child < 0) {
        child = static_cast<int>(nodes_.size());
        nodes_[node].children.emplace_back(byte, child);
        nodes_.emplace_back();
      }
      node = child;
    }
    nodes_[node].terminal = true;
  }

  // The text cut into pieces: matched words and the stretches between them.
  std::vector<std::string_view> split(std::string_view text) const {
    std::vector<std::string_view> pieces;
    if (nodes_[0].children.empty()) {
      pieces.push_back(text);
      return pieces;
    }
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      std::size_t match = 0;
      int node = 0;
      for (std::size_t j = i; j < text.size(); ++j) {
        node = find_child(node, static_cast<unsigned char>(text[j]));
        if (node < 0) break;
        if (nodes_[node].terminal) match = j + 1 - i;
      }
      if (match == 0) {
        ++i;
        continue;
      }
      if (i > start) pieces.push_back(text.substr(start, i - start));
      pieces.push_back(text.substr(i, match));
      i += match;
      start = i;
    }
    if (start < text.size()) pieces.push_back(text.substr(start));
    return pieces;
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> children;
    bool terminal = false;
  };
  int find_child(int node, unsigned char byte) const {
    for (const auto& [b, child] : nodes_[node].children)
      if (b == byte) return child;
    return -1;
  }
  std::vector<Node> nodes_{1};
};

// transformers' clean_up_tokenization: spaces before punctuation and contractions.
std::string clean_up_tokenization(std::string text) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    const std::string_view f(from);
    std::string out;
    std::size_t last = 0;
    for (std::size_t at = text.find(f); at != std::string::npos; at = text.find(f, last)) {
      out.append(text, last, at - last);
      out.append(to);
      last = at + f.size();
    }
    out.append(text, last);
    text = std::move(out);
  }
  return text;
}

class HfTokenizer final : public Tokenizer {
 public:
  HfTokenizer(const std::filesystem::path& path, const json& root);

  std::vector<TokenId> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(std::span<const TokenId> ids, bool skip_special_tokens) const override;
  std::size_t vocab_size() const override { return id_to_token_.size(); }
  std::optional<TokenId> token_to_id(std::string_view token) const override;
  std::string id_to_token(TokenId id) const override { return token_text(id); }
  std::optional<TokenId> bos_id() const override { return bos_; }
  std::optional<TokenId> eos_id() const override { return eos_; }

 private:
  const AddedToken* added(std::string_view text) const {
    const auto it = added_by_text_.find(text);
    return it == added_by_text_.end() ? nullptr : &added_[it->second];
  }
  void strip_around_added(std::vector<std::string_view>& pieces) const;
  const std::string& token_text(TokenId id) const;
  void read_config(const std::filesystem::path& config_path);
  std::optional<TokenId> first_known(std::initializer_list<const char*> names) const;

  std::string file_;
  std::unique_ptr<BpeModel> model_;
  hf::Normalizer normalizer_;
  hf::PreTokenizer pre_tokenizer_;
  hf::Decoder decoder_;
  hf::PostProcessor post_processor_;
  std::vector<AddedToken> added_;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> added_by_text_;
  TokenTrie raw_added_;
  TokenTrie normalized_added_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> id_known_;
  std::unordered_set<std::string> special_texts_;
  std::string end_of_word_suffix_;
  bool clean_up_spaces_ = false;
  std::optional<TokenId> bos_;
  std::optional<TokenId> eos_;
};

std::unique_ptr<BpeModel> build_model(const json& model, const JsonSite& site) {
  const std::string type = hf::string_or(model, "type", "BPE", site);
  if (type != "BPE") {
    site.at("type").fail("unknown model type '" + type + "' (supported: BPE)");
  }
  const auto& vocab_json = hf::require(model, "vocab", site);
  if (!vocab_json.is_object()) site.at("vocab").fail("expected an object of token: id");
  Vocabulary vocab;
  vocab.reserve(vocab_json.size());
  for (const auto& [token, id] : vocab_json.items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
        id.get<std::int64_t>() > std::numeric_limits<TokenId>::max()) {
      site.at("vocab").fail("token '" + token + "' has id " + id.dump() +
                            ", expected an integer >= 0");
    }
    vocab.emplace(token, id.get<TokenId>());
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (model.contains("merges")) {
    const auto& merges_json = model["merges"];
    if (!merges_json.is_array()) site.at("merges").fail("expected an array");
    merges.reserve(merges_json.size());
    for (std::size_t i = 0; i < merges_json.size(); ++i) {
      const auto& m = merges_json[i];
      if (m.is_string()) {
        const std::string text = m.get<std::string>();
        const auto space = text.find(' ');
        if (space == std::string::npos) {
          site.at("merges").at(i).fail("'" + text + "' is not of the form \"left right\"");
        }
        // As the reference splits: the second part ends at a further space, if any.
        const auto end = text.find(' ', space + 1);
        merges.emplace_back(text.substr(0, space), text.substr(space + 1, end - space - 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        site.at("merges").at(i).fail("expected \"left right\" or [left, right], got " + m.dump());
      }
    }
  }
  BpeOptions options;
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    options.unk_token = model["unk_token"].get<std::string>();
  }
  options.continuing_subword_prefix = hf::string_or(model, "continuing_subword_prefix", "", site);
  options.end_of_word_suffix = hf::string_or(model, "end_of_word_suffix", "", site);
  options.byte_fallback = hf::bool_or(model, "byte_fallback", false, site);
  options.fuse_unk = hf::bool_or(model, "fuse_unk", false, site);
  options.ignore_merges = hf::bool_or(model, "ignore_merges", false, site);
  if (model.contains("dropout") && model["dropout"].is_number() &&
      model["dropout"].get<double>() > 0.0) {
    site.at("dropout").fail("BPE dropout is for training; expected null or 0");
  }
  return std::make_unique<BpeModel>(std::move(vocab), merges, std::move(options));
}

HfTokenizer::HfTokenizer(const std::filesystem::path& path, const json& root)
    : file_(path.string()) {
  const JsonSite top{file_, "tokenizer"};
  if (!root.is_object()) top.fail("expected a JSON object at the top level");
  model_ = build_model(hf::require(root, "model", top), top.at("model"));
  end_of_word_suffix_ = model_->options().end_of_word_suffix;

  if (root.contains("normalizer") && !root["normalizer"].is_null()) {
    normalizer_ = hf::make_normalizer(root["normalizer"], top.at("normalizer"));
  }
  if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null()) {
    pre_tokenizer_ = hf::make_pre_tokenizer(root["pre_tokenizer"], top.at("pre_tokenizer"));
  }

  TokenId max_id = -1;
  for (const auto& [token, id] : model_->vocab()) max_id = std::max(max_id, id);
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    const auto& list = root["added_tokens"];
    const JsonSite list_site = top.at("added_tokens");
    if (!list.is_array()) list_site.fail("expected an array");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const JsonSite site = list_site.at(i);
      const auto& item = list[i];
      const auto& id = hf::require(item, "id", site);
      const auto& content = hf::require(item, "content", site);
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0)
        site.at("id").fail("expected an id >= 0");
      if (!content.is_string() || content.get<std::string>().empty()) {
        site.at("content").fail("expected a non-empty string");
      }
      AddedToken token;
      token.content = content.get<std::string>();
      token.id = id.get<TokenId>();
      token.lstrip = hf::bool_or(item, "lstrip", false, site);
      token.rstrip = hf::bool_or(item, "rstrip", false, site);
      token.special = hf::bool_or(item, "special", false, site);
      token.normalized = hf::bool_or(item, "normalized", true, site);
      max_id = std::max(max_id, token.id);
      added_.push_back(std::move(token));
    }
  }

  id_to_token_.assign(static_cast<std::size_t>(max_id + 1), std::string());
  id_known_.assign(id_to_token_.size(), false);
  for (const auto& [token, id] : model_->vocab()) {
    id_to_token_[id] = token;
    id_known_[id] = true;
  }
  auto added_texts = std::make_shared<std::unordered_set<std::string>>();
  for (std::size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& token = added_[i];
    id_to_token_[token.id] = token.content;
    id_known_[token.id] = true;
    added_texts->insert(token.content);
    if (token.special) special_texts_.insert(token.content);
    added_by_text_.emplace(token.content, i);
    if (token.normalized && normalizer_) {
      const std::string normalized = normalizer_(token.content);
      added_by_text_.emplace(normalized, i);
      normalized_added_.insert(normalized);
    } else {
      raw_added_.insert(token.content);
    }
  }

  if (root.contains("decoder") && !root["decoder"].is_null()) {
    decoder_ = hf::make_decoder(root["decoder"], top.at("decoder"), added_texts);
  }
  if (root.contains("post_processor") && !root["post_processor"].is_null()) {
    post_processor_ = hf::make_post_processor(
        root["post_processor"], top.at("post_processor"), [&](const std::string& name) {
          const auto id = token_to_id(name);
          if (!id)
            top.at("post_processor").fail("special token '" + name + "' is not in the vocabulary");
          return *id;
        });
  }

  read_config(path.parent_path() / "tokenizer_config.json");
  if (!bos_) bos_ = first_known({"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"});
  if (!eos_)
    eos_ = first_known({"</s>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<eos>"});
}

std::optional<TokenId> HfTokenizer::first_known(std::initializer_list<const char*> names) const {
  for (const char* name : names) {
    if (const auto id = token_to_id(name)) return id;
  }
  return std::nullopt;
}

void HfTokenizer::read_config(const std::filesystem::path& config_path) {
  std::ifstream in(config_path, std::ios::binary);
  if (!in) return;  // optional: tokenizer.json alone is a complete tokenizer
  const std::string file = config_path.string();
  json config;
  try {
    config = json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(file + ": invalid JSON: " + e.what());
  }
  const JsonSite site{file, "tokenizer_config"};
  if (!config.is_object()) site.fail("expected a JSON object");
  const auto token_name = [&](const json& value,
                              const JsonSite& where) -> std::optional<std::string> {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string()) {
      return value["content"].get<std::string>();
    }
    if (!value.is_null()) where.fail("expected a token string or {\"content\": ...}");
    return std::nullopt;
  };
  const auto id_of = [&](const char* key) -> std::optional<TokenId> {
    if (!config.contains(key)) return std::nullopt;
    const auto name = token_name(config[key], site.at(key));
    if (!name) return std::nullopt;
    const auto id = token_to_id(*name);
    if (!id) site.at(key).fail("token '" + *name + "' is not in the vocabulary");
    return id;
  };
  bos_ = id_of("bos_token");
  eos_ = id_of("eos_token");
  // tokenizers.js cleans up unless the config says not to; qdgen follows it.
  clean_up_spaces_ = hf::bool_or(config, "clean_up_tokenization_spaces", true, site);
  if (config.contains("additional_special_tokens") &&
      config["additional_special_tokens"].is_array()) {
    const auto& list = config["additional_special_tokens"];
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (const auto name = token_name(list[i], site.at("additional_special_tokens").at(i))) {
        special_texts_.insert(*name);
      }
    }
  }
}

std::optional<TokenId> HfTokenizer::token_to_id(std::string_view token) const {
  for (const auto& a : added_)
    if (a.content == token) return a.id;
  const auto it = model_->vocab().find(token);
  if (it == model_->vocab().end()) return std::nullopt;
  return it->second;
}

const std::string& HfTokenizer::token_text(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= id_to_token_.size() || !id_known_[id]) {
    throw std::runtime_error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                             file_ + " (ids 0.." + std::to_string(id_to_token_.size() - 1) + ")");
  }
  return id_to_token_[id];
}

void HfTokenizer::strip_around_added(std::vector<std::string_view>& pieces) const {
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const AddedToken* token = added(pieces[i]);
    if (token == nullptr) continue;
    if (token->lstrip && i > 0) pieces[i - 1] = unicode::trim_js_whitespace_end(pieces[i - 1]);
    if (token->rstrip && i + 1 < pieces.size()) {
      pieces[i + 1] = unicode::trim_js_whitespace_start(pieces[i + 1]);
    }
  }
}

std::vector<TokenId> HfTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::string repaired;
  if (!unicode::is_valid_utf8(text)) {
    repaired = unicode::repair_utf8(text);
    text = repaired;
  }
  std::vector<TokenId> ids;
  std::vector<std::string> pieces;
  auto sections = raw_added_.split(text);
  strip_around_added(sections);
  for (std::size_t section_index = 0; section_index < sections.size(); ++section_index) {
    const std::string_view section = sections[section_index];
    if (section.empty()) continue;
    if (const AddedToken* token = added(section)) {
      ids.push_back(token->id);
      continue;
    }
    const std::string normalized = normalizer_ ? normalizer_(section) : std::string(section);
    if (normalized.empty()) continue;
    auto parts = normalized_added_.split(normalized);
    strip_around_added(parts);
    for (const std::string_view part : parts) {
      if (part.empty()) continue;
      if (const AddedToken* token = added(part)) {
        ids.push_back(token->id);
        continue;
      }
      pieces.assign(1, std::string(part));
      if (pre_tokenizer_) pre_tokenizer_(pieces, section_index);
      for (const auto& piece : pieces) model_->encode_word(piece, ids);
    }
  }
  if (add_special_tokens && post_processor_) ids = post_processor_(std::move(ids));
  return ids;
}

std::string HfTokenizer::decode(std::span<const TokenId> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const TokenId id : ids) {
    const std::string& token = token_text(id);
    if (skip_special_tokens && special_texts_.count(token) != 0) continue;
    tokens.push_back(token);
  }
  std::string text;
  if (decoder_) {
    decoder_(tokens);
    for (const auto& token : tokens) text += token;
  } else {
    for (std::size_t i = 0; i < tokens.size(); ++i) text += (i > 0 ? " " : "") + tokens[i];
  }
  if (decoder_ && !end_of_word_suffix_.empty()) {
    std::string replaced;
    std::size_t last = 0;
    for (std::size_t at = text.find(end_of_word_suffix_); at != std::string::npos;
         at = text.find(end_of_word_suffix_, last)) {
      replaced.append(text, last, at - last);
      replaced.push_back(' ');
      last = at + end_of_word_suffix_.size();
    }
    replaced.append(text, last);
    text = std::move(replaced);
    if (skip_special_tokens) {
      text = std::string(unicode::trim_js_whitespace_end(unicode::trim_js_whitespace_start(text)));
    }
  }
  if (clean_up_spaces_) text = clean_up_tokenization(std::move(text));
  return text;
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::filesystem::path& path,
                                             const std::string& contents) {
  json root;
  try {
    root = json::parse(contents);
  } catch (const json::exception& e) {
    throw std::runtime_error(path.string() + ": invalid JSON: " + e.what());
  }
  return std::make_unique<HfTokenizer>(path, root);
}

}  // namespace qdgen::inference
