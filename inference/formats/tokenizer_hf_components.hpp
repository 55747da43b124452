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

#include "qdgen/common/json_reader.hpp"
#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference::hf {

using Normalizer = std::function<std::string(std::string_view)>;
// Splits each piece further; section_index counts the sections between added tokens.
using PreTokenizer =
    std::function<void(std::vector<std::string>& pieces, std::size_t section_index)>;
// Rewrites the list of token strings (Hugging Face's decode_chain).
using Decoder = std::function<void(std::vector<std::string>& tokens)>;
using PostProcessor = std::function<std::vector<TokenId>(std::vector<TokenId> ids)>;

// Each reads its stage's object where it sits in the file ("tokenizer.pre_tokenizer"), so
// errors name the file and the key path; keys a stage does not use are ignored, as the
// reference ignores them.
Normalizer make_normalizer(const common::JsonValue& config);
PreTokenizer make_pre_tokenizer(const common::JsonValue& config);
// Byte-level decoding leaves added tokens as they are written, hence the set.
Decoder make_decoder(const common::JsonValue& config,
                     std::shared_ptr<const std::unordered_set<std::string>> added_tokens);
PostProcessor make_post_processor(const common::JsonValue& config,
                                  const std::function<TokenId(const std::string&)>& id_of);

// A Replace stage's "pattern" ({"String": literal} or {"Regex": pattern}) and "content".
std::function<std::string(std::string_view)> make_replacer(common::JsonReader& config);
// An id of a tokenizer file: an integer in [0, kMaxVocabulary).
TokenId read_token_id(const common::JsonValue& value);

}  // namespace qdgen::inference::hf
