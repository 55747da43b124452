#pragma once
// Streams one request's generation as text: turns the batch's token steps into the
// LanguageModel's token events, whose texts, concatenated, are the request's final text.
// Each event's text is valid UTF-8 (StreamingDecoder holds back a token that ends inside a
// character) and never runs into a stop string: text that could be the start of one waits
// until the next token shows whether it is.

#include <string>
#include <vector>

#include "qdgen/inference/generation.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "qdgen/llm/language_model.hpp"

namespace qdgen::inference {

class TextStream {
 public:
  TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop,
             llm::TokenCallback on_token);
  // What the request's TokenRequest::on_tokens does: false once the caller's callback said so.
  bool on_step(const TokenStep& step);

 private:
  StreamingDecoder decoder_;
  std::vector<std::string> stop_;
  llm::TokenCallback on_token_;
  std::string pending_;  // decoded, not yet passed on
  bool cancelled_ = false;
};

}  // namespace qdgen::inference
