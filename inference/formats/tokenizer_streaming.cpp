// Streaming decode: decode a small window of recent ids and emit what it adds beyond the
// text the window already produced; a window whose text ends in U+FFFD is mid-character
// and waits for the next id. (The scheme of Hugging Face tokenizers' DecodeStream.)

#include <stdexcept>

#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference {
namespace {

bool ends_with_replacement(const std::string& text) {
  return text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

}  // namespace

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string StreamingDecoder::push(TokenId id) {
  if (prefix_.empty() && !window_.empty()) {
    std::string text = tokenizer_.decode(window_, skip_special_tokens_);
    if (!ends_with_replacement(text)) {
      prefix_ = std::move(text);
      prefix_index_ = window_.size();
    }
  }
  window_.push_back(id);
  std::string text = tokenizer_.decode(window_, skip_special_tokens_);
  if (text.size() <= prefix_.size() || ends_with_replacement(text)) return {};
  if (text.compare(0, prefix_.size(), prefix_) != 0) {
    // The decoder rewrote earlier text (cannot happen with the supported decoders); emit all.
    prefix_.clear();
  }
  std::string fresh = text.substr(prefix_.size());
  const std::size_t new_prefix_index = window_.size() - prefix_index_;
  window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
  prefix_ = tokenizer_.decode(window_, skip_special_tokens_);
  prefix_index_ = new_prefix_index;
  return fresh;
}

std::string StreamingDecoder::finish() {
  std::string rest;
  if (!window_.empty()) {
    const std::string text = tokenizer_.decode(window_, skip_special_tokens_);
    if (text.size() > prefix_.size() && text.compare(0, prefix_.size(), prefix_) == 0) {
      rest = text.substr(prefix_.size());
    }
  }
  window_.clear();
  prefix_.clear();
  prefix_index_ = 0;
  return rest;
}

}  // namespace qdgen::inference
