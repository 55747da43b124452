#include "batch_generation.hpp"

#include <stdexcept>
#include <string>

#include "batch_scoring.hpp"
#include "embedding_pass.hpp"
#include "request_checks.hpp"

namespace qdgen::inference {

LlamaBatchEngine::LlamaBatchEngine(const LlamaRuntime& runtime, std::int64_t prefix_cache_bytes)
    : runtime_(runtime), kept_(runtime, prefix_cache_bytes), batch_(runtime, kept_) {}

BatchEngine::CallId LlamaBatchEngine::submit(std::span<const TokenRequest> requests,
                                             const GenerationOptions& options) {
  validate_requests(runtime_.config(), runtime_.adapter_names(), requests,
                    static_cast<bool>(options.decode));
  if (options.max_batch < 1) throw std::invalid_argument("max_batch must be >= 1");
  auto call = std::make_shared<GenerationCall>(runtime_, requests, options);
  std::lock_guard lock(mutex_);
  const CallId id = next_call_++;
  calls_.emplace(id, call);
  if (call->unended == 0) {
    call->published = true;  // nothing to generate
  } else {
    submitted_.push_back(std::move(call));
  }
  return id;
}

void LlamaBatchEngine::cancel(CallId id, std::size_t index) {
  std::lock_guard lock(mutex_);
  const auto found = calls_.find(id);
  if (found == calls_.end() || found->second->published) return;
  if (index >= found->second->requests.size()) {
    throw std::invalid_argument("cancel: call " + std::to_string(id) + " has " +
                                std::to_string(found->second->requests.size()) + " requests, not " +
                                std::to_string(index + 1));
  }
  cancelled_.emplace_back(found->second, index);
}

void LlamaBatchEngine::check_not_driving(const char* what) const {
  if (driving_ && driver_ == std::this_thread::get_id()) {
    throw std::logic_error(std::string(what) +
                           ": called from a token callback, inside the batch's step");
  }
}

std::vector<TokenResult> LlamaBatchEngine::wait(CallId id, GenerationStats* stats) {
  std::unique_lock lock(mutex_);
  check_not_driving("wait");
  const auto found = calls_.find(id);
  if (found == calls_.end()) {
    throw std::invalid_argument("wait: no call " + std::to_string(id) +
                                " (unknown, or waited for already)");
  }
  const std::shared_ptr<GenerationCall> call = found->second;
  while (!call->published) {
    if (driving_) {
      changed_.wait(lock);
      continue;
    }
    // This thread drives the batch until its own call has ended, then hands the role on.
    driving_ = true;
    driver_ = std::this_thread::get_id();
    const auto hand_on = [&] {
      driving_ = false;
      driver_ = {};
      changed_.notify_all();
    };
    try {
      while (!call->published) {
        lock.unlock();
        drive_round();
        lock.lock();
      }
    } catch (...) {
      if (!lock.owns_lock()) lock.lock();
      hand_on();
      throw;
    }
    hand_on();
  }
  calls_.erase(id);
  lock.unlock();
  if (stats) *stats = call->stats;
  if (call->error) std::rethrow_exception(call->error);
  return std::move(call->results);
}

bool LlamaBatchEngine::step() {
  std::unique_lock lock(mutex_);
  check_not_driving("step");
  changed_.wait(lock, [&] { return !driving_; });
  driving_ = true;
  driver_ = std::this_thread::get_id();
  lock.unlock();
  const auto hand_on = [&] {
    if (!lock.owns_lock()) lock.lock();
    driving_ = false;
    driver_ = {};
    changed_.notify_all();
  };
  try {
    drive_round();
  } catch (...) {
    hand_on();
    throw;
  }
  hand_on();
  return batch_busy_ || !submitted_.empty();
}

void LlamaBatchEngine::drive_round() {
  std::vector<std::shared_ptr<GenerationCall>> arrived;
  std::vector<std::pair<std::shared_ptr<GenerationCall>, std::size_t>> cancelled;
  {
    std::lock_guard lock(mutex_);
    arrived.swap(submitted_);
    cancelled.swap(cancelled_);
  }
  std::vector<GenerationCall*> ended;
  {
    std::lock_guard turn(turn_);
    c10::InferenceMode inference_mode;
    for (const auto& call : arrived) batch_.enqueue(*call);
    for (const auto& [call, index] : cancelled) batch_.cancel(*call, index);
    batch_.round();
    ended = batch_.take_ended_calls();
  }
  std::lock_guard lock(mutex_);
  for (GenerationCall* call : ended) call->published = true;
  batch_busy_ = !batch_.empty();
  if (!ended.empty()) changed_.notify_all();
}

std::vector<TokenResult> LlamaBatchEngine::generate(std::span<const TokenRequest> requests,
                                                    const GenerationOptions& options,
                                                    GenerationStats* stats) {
  return wait(submit(requests, options), stats);
}

std::vector<double> LlamaBatchEngine::score(
    std::span<const std::int32_t> prompt,
    std::span<const std::vector<std::int32_t>> continuations) {
  const TokenScoreRequest request{
      {prompt.begin(), prompt.end()}, {continuations.begin(), continuations.end()}, {}};
  validate_score_request(runtime_.config(), runtime_.adapter_names(), request, "score");
  std::lock_guard turn(turn_);
  c10::InferenceMode inference_mode;
  return std::move(score_requests(runtime_, std::span(&request, 1), kept_)[0]);
}

std::vector<std::vector<double>> LlamaBatchEngine::score(
    std::span<const TokenScoreRequest> requests) {
  // One request reads as the lone prompt's call does ("score continuation 0: ...").
  for (std::size_t i = 0; i < requests.size(); ++i) {
    validate_score_request(runtime_.config(), runtime_.adapter_names(), requests[i],
                           requests.size() == 1 ? "score" : "score request " + std::to_string(i));
  }
  std::lock_guard turn(turn_);
  c10::InferenceMode inference_mode;
  return score_requests(runtime_, requests, kept_);
}

std::vector<std::vector<float>> LlamaBatchEngine::embed(
    std::span<const std::vector<std::int32_t>> texts, bool skip_first_token,
    std::span<const LoraMixture> mixtures) {
  std::lock_guard turn(turn_);
  c10::InferenceMode inference_mode;
  return embed_sequences(runtime_, texts, skip_first_token, mixtures);
}

PrefixCacheStats LlamaBatchEngine::prefix_cache_stats() const {
  std::lock_guard turn(turn_);
  return kept_.stats();
}

void LlamaBatchEngine::clear_prefix_cache() {
  std::lock_guard turn(turn_);
  kept_.clear();
}

}  // namespace qdgen::inference
