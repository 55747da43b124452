#include "text_stream.hpp"

#include <algorithm>

namespace qdgen::inference {
namespace {

// The longest suffix of `text` that is a proper prefix of some stop string.
std::size_t stop_prefix_at_end(const std::string& text, const std::vector<std::string>& stop) {
  std::size_t longest = 0;
  for (const std::string& s : stop) {
    for (std::size_t k = std::min(s.size() - 1, text.size()); k > longest; --k) {
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}

}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop,
                       llm::TokenCallback on_token)
    : decoder_(tokenizer, true), stop_(std::move(stop)), on_token_(std::move(on_token)) {}

bool TextStream::on_step(const TokenStep& step) {
  if (cancelled_) return false;
  for (const std::int32_t token : step.tokens) pending_ += decoder_.push(token);
  std::size_t ready = 0;
  if (step.finished) {
    pending_ += decoder_.finish();
    // The final text ends before the first stop string. Every earlier event held back any
    // start of one, so the match lies in what is pending.
    if (step.finish == FinishReason::kStop) {
      std::size_t cut = pending_.size();
      for (const std::string& s : stop_) cut = std::min(cut, pending_.find(s));
      pending_.resize(cut);
    }
    ready = pending_.size();
  } else {
    ready = pending_.size() - stop_prefix_at_end(pending_, stop_);
  }
  if (step.tokens.empty() && ready == 0) return true;
  const bool go_on =
      on_token_(llm::TokenEvent{step.tokens, std::string_view(pending_).substr(0, ready)});
  pending_.erase(0, ready);
  if (!go_on) cancelled_ = true;
  return go_on;
}

}  // namespace qdgen::inference
