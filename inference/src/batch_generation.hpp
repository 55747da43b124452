#pragma once
// A model's batch engine (qdgen/inference/batch_engine.hpp) and the other passes that share the
// model with it. Calls from any thread: generate() requests join one continuous batch
// (DecodeBatch), which runs on whichever waiting thread holds the driver's role; score(),
// embed() and exclusive() passes take turns with the batch's rounds, one pass at a time, since
// the model's threads and kept prefixes serve one pass at a time.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "decode_batch.hpp"
#include "generation_call.hpp"
#include "llama_runtime.hpp"
#include "prefix_cache.hpp"
#include "qdgen/inference/batch_engine.hpp"
#include "qdgen/inference/model.hpp"
#include "turn_lock.hpp"

namespace qdgen::inference {

class LlamaBatchEngine final : public BatchEngine {
 public:
  // prefix_cache_bytes: the budget of the prompt prefixes kept across calls.
  LlamaBatchEngine(const LlamaRuntime& runtime, std::int64_t prefix_cache_bytes);

  CallId submit(std::span<const TokenRequest> requests, const GenerationOptions& options) override;
  void cancel(CallId call, std::size_t index) override;
  std::vector<TokenResult> wait(CallId call, GenerationStats* stats = nullptr) override;
  bool step() override;

  std::vector<TokenResult> generate(std::span<const TokenRequest> requests,
                                    const GenerationOptions& options, GenerationStats* stats);
  std::vector<double> score(std::span<const std::int32_t> prompt,
                            std::span<const std::vector<std::int32_t>> continuations);
  std::vector<std::vector<double>> score(std::span<const TokenScoreRequest> requests);
  std::vector<std::vector<float>> embed(std::span<const std::vector<std::int32_t>> texts,
                                        bool skip_first_token,
                                        std::span<const LoraMixture> mixtures);
  // The model for one pass outside the batch (e.g. forward_logits), until the lock goes.
  std::unique_lock<TurnLock> exclusive() const { return std::unique_lock(turn_); }

  PrefixCacheStats prefix_cache_stats() const;
  void clear_prefix_cache();

 private:
  // One round of the batch on this thread, which must hold the driver's role.
  void drive_round();
  void check_not_driving(const char* what) const;  // callers hold mutex_

  const LlamaRuntime& runtime_;
  mutable TurnLock turn_;
  PrefixCache kept_;   // under turn_
  DecodeBatch batch_;  // the driver's alone

  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable changed_;
  std::map<CallId, std::shared_ptr<GenerationCall>> calls_;
  std::vector<std::shared_ptr<GenerationCall>> submitted_;  // not yet in batch_
  std::vector<std::pair<std::shared_ptr<GenerationCall>, std::size_t>> cancelled_;
  CallId next_call_ = 1;
  bool driving_ = false;
  std::thread::id driver_;
  bool batch_busy_ = false;  // batch_ holds requests (as of the last round)
};

}  // namespace qdgen::inference
