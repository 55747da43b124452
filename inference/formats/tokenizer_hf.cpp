// A tokenizer.json tokenizer. The encode flow is that of Hugging Face tokenizers.js, which
// made the reference ids: added tokens are cut out of the raw text first (those with
// normalized=false), the rest is normalised, then added tokens are cut out of the normalised
// text (those with normalized=true, matched in their normalised form), and what remains goes
// through the pre-tokenizer and the BPE model.

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "qdgen/common/json_parse.hpp"
#include "tokenizer_bpe.hpp"
#include "tokenizer_hf_components.hpp"
#include "tokenizer_loaders.hpp"
#include "unicode_utf8.hpp"

namespace qdgen::inference {
namespace {

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

std::unique_ptr<BpeModel> build_model(const common::JsonValue& value) {
  common::JsonReader model = value.object();
  const std::string type = model.string("type", "BPE");
  if (type != "BPE") model.fail("type", "unknown model type '" + type + "' (supported: BPE)");
  const common::JsonValue vocab_value = model.required("vocab");
  if (!vocab_value.json().is_object()) vocab_value.expected("an object of token: id");
  Vocabulary vocab;
  vocab.reserve(vocab_value.json().size());
  // Checked in place: a path per entry would cost more than the check (10^5 entries).
  for (const auto& [token, id] : vocab_value.json().items()) {
    const bool in_range = id.is_number_unsigned()
                              ? id.get<std::uint64_t>() < kMaxVocabulary
                              : id.is_number_integer() && id.get<std::int64_t>() >= 0 &&
                                    id.get<std::int64_t>() < kMaxVocabulary;
    if (!in_range) {
      vocab_value.fail("token '" + token + "' has id " + common::describe_json(id) +
                       ", expected an integer in [0, " + std::to_string(kMaxVocabulary - 1) + "]");
    }
    vocab.emplace(token, id.get<TokenId>());
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (const auto merges_value = model.optional("merges")) {
    const json& list = merges_value->json();
    if (!list.is_array()) merges_value->expected("an array of merges");
    merges.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& m = list[i];
      if (m.is_string()) {
        const std::string& text = m.get_ref<const std::string&>();
        const auto space = text.find(' ');
        if (space == std::string::npos) {
          merges_value->element(i).fail("'" + text + "' is not of the form \"left right\"");
        }
        // As the reference splits: the second part ends at a further space, if any.
        const auto end = text.find(' ', space + 1);
        merges.emplace_back(text.substr(0, space), text.substr(space + 1, end - space - 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        merges_value->element(i).expected("\"left right\" or [left, right]");
      }
    }
  }
  BpeOptions options;
  if (const auto unk = model.optional("unk_token")) options.unk_token = unk->string();
  options.continuing_subword_prefix = model.string("continuing_subword_prefix", "");
  options.end_of_word_suffix = model.string("end_of_word_suffix", "");
  options.byte_fallback = model.boolean("byte_fallback", false);
  options.fuse_unk = model.boolean("fuse_unk", false);
  options.ignore_merges = model.boolean("ignore_merges", false);
  if (model.number_in("dropout", 0.0, 1.0, 0.0) > 0.0)
    model.fail("dropout", "BPE dropout is for training; expected null or 0");
  return std::make_unique<BpeModel>(std::move(vocab), merges, std::move(options));
}

HfTokenizer::HfTokenizer(const std::filesystem::path& path, const json& root)
    : file_(path.string()) {
  // tokenizer.json writes null for "none"; keys qdgen does not use are ignored.
  common::JsonReader top(root, file_, "tokenizer", common::ReadOptions{.null_is_absent = true});
  model_ = build_model(top.required("model"));
  end_of_word_suffix_ = model_->options().end_of_word_suffix;

  if (const auto normalizer = top.optional("normalizer"))
    normalizer_ = hf::make_normalizer(*normalizer);
  if (const auto pre_tokenizer = top.optional("pre_tokenizer"))
    pre_tokenizer_ = hf::make_pre_tokenizer(*pre_tokenizer);

  TokenId max_id = -1;
  for (const auto& [token, id] : model_->vocab()) max_id = std::max(max_id, id);
  if (const auto list = top.optional("added_tokens")) {
    for (const auto& item_value : list->array("an array of added tokens")) {
      common::JsonReader item = item_value.object();
      AddedToken token;
      token.id = hf::read_token_id(item.required("id"));
      const common::JsonValue content = item.required("content");
      if (!content.json().is_string() || content.json().get_ref<const std::string&>().empty())
        content.expected("a non-empty string");
      token.content = content.string();
      token.lstrip = item.boolean("lstrip", false);
      token.rstrip = item.boolean("rstrip", false);
      token.special = item.boolean("special", false);
      token.normalized = item.boolean("normalized", true);
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

  if (const auto decoder = top.optional("decoder"))
    decoder_ = hf::make_decoder(*decoder, added_texts);
  if (const auto post_processor = top.optional("post_processor")) {
    post_processor_ = hf::make_post_processor(*post_processor, [&](const std::string& name) {
      const auto id = token_to_id(name);
      if (!id) post_processor->fail("special token '" + name + "' is not in the vocabulary");
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
  std::error_code code;
  if (!std::filesystem::is_regular_file(config_path, code)) return;  // optional
  const json config = common::read_json_file(config_path, "tokenizer_config.json");
  common::JsonReader site(config, config_path.string(), "tokenizer_config",
                          common::ReadOptions{.null_is_absent = true});
  const auto token_name = [&](const common::JsonValue& value) -> std::string {
    if (value.json().is_string()) return value.string();
    if (value.json().is_object() && value.json().contains("content") &&
        value.json()["content"].is_string())
      return value.json()["content"].get<std::string>();
    value.expected("a token string or {\"content\": ...}");
  };
  const auto id_of = [&](const char* key) -> std::optional<TokenId> {
    const auto value = site.optional(key);
    if (!value) return std::nullopt;
    const std::string name = token_name(*value);
    const auto id = token_to_id(name);
    if (!id) value->fail("token '" + name + "' is not in the vocabulary");
    return id;
  };
  bos_ = id_of("bos_token");
  eos_ = id_of("eos_token");
  // tokenizers.js cleans up unless the config says not to; qdgen follows it.
  clean_up_spaces_ = site.boolean("clean_up_tokenization_spaces", true);
  if (const auto list = site.optional("additional_special_tokens")) {
    for (const auto& item : list->array("an array of tokens")) {
      if (!item.json().is_null()) special_texts_.insert(token_name(item));
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
  return std::make_unique<HfTokenizer>(path, common::parse_json(contents, path.string()));
}

}  // namespace qdgen::inference
