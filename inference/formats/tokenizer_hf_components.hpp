#pragma once
// The pipeline stages of a tokenizer.json, each built from its JSON object: normalizers,
// pre-tokenizers, decoders and post-processors. Semantics follow the Hugging Face reference
// (tokenizers.js for what the reference ids were made with, the Rust crate elsewhere).

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference::hf {

// Where in which file a JSON value sits, for one-line error messages.
struct JsonSite {
  std::string file;
  std::string key;
  JsonSite at(const std::string& child) const { return {file, key + "." + child}; }
  JsonSite at(std::size_t index) const { return {file, key + "[" + std::to_string(index) + "]"}; }
  [[noreturn]] void fail(const std::string& message) const;
};

const nlohmann::json& require(const nlohmann::json& object, const char* name, const JsonSite& site);
std::string string_or(const nlohmann::json& object, const char* name, const std::string& fallback,
                      const JsonSite& site);
bool bool_or(const nlohmann::json& object, const char* name, bool fallback, const JsonSite& site);

using Normalizer = std::function<std::string(std::string_view)>;
// Splits each piece further; section_index counts the sections between added tokens.
using PreTokenizer =
    std::function<void(std::vector<std::string>& pieces, std::size_t section_index)>;
// Rewrites the list of token strings (Hugging Face's decode_chain).
using Decoder = std::function<void(std::vector<std::string>& tokens)>;
using PostProcessor = std::function<std::vector<TokenId>(std::vector<TokenId> ids)>;

Normalizer make_normalizer(const nlohmann::json& config, const JsonSite& site);
PreTokenizer make_pre_tokenizer(const nlohmann::json& config, const JsonSite& site);
// Byte-level decoding leaves added tokens as they are written, hence the set.
Decoder make_decoder(const nlohmann::json& config, const JsonSite& site,
                     std::shared_ptr<const std::unordered_set<std::string>> added_tokens);
PostProcessor make_post_processor(const nlohmann::json& config, const JsonSite& site,
                                  const std::function<TokenId(const std::string&)>& id_of);

// A Replace pattern: {"String": literal} or {"Regex": pattern}.
std::function<std::string(std::string_view)> make_replacer(const nlohmann::json& config,
                                                           const JsonSite& site);

}  // namespace qdgen::inference::hf
