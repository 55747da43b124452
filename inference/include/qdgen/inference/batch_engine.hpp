#pragma once
// The continuous batch a LlamaModel generates in (LlamaModel::batch_engine()): requests wait in
// a queue, join the batch as rows (each with its own KV slot) when there is room, take one
// token per decode step, and leave when they end, freeing the row for the next waiting one.
// Requests join from any thread while the batch runs; each can stream its tokens through its
// TokenRequest::on_tokens callback and be cancelled. The batch runs on whichever thread waits
// for it (or steps it): one at a time drives it, the others sleep until their own requests
// end or it is their turn. A request's tokens do not depend on what else shares the batch.
// No libtorch here.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "qdgen/inference/generation.hpp"

namespace qdgen::inference {

struct GenerationOptions;  // model.hpp

class BatchEngine {
 public:
  using CallId = std::uint64_t;
  virtual ~BatchEngine() = default;

  // Queues `requests`, after validating them all (std::invalid_argument naming "request i");
  // they run while some thread drives the batch (wait() or step()). Any thread, token
  // callbacks included.
  virtual CallId submit(std::span<const TokenRequest> requests,
                        const GenerationOptions& options) = 0;
  // Ends request `index` of `call` with kCancelled: a waiting one never runs, an active one's
  // row is freed before the next step. Ignored once the request has ended. Any thread.
  virtual void cancel(CallId call, std::size_t index) = 0;
  // Drives the batch on this thread, or sleeps while another drives it, until every request
  // of `call` has ended; returns their results and the call's counters, once per call.
  // Rethrows what a callback of the call (or the model, running its rows) threw. Not from a
  // token callback (std::logic_error).
  virtual std::vector<TokenResult> wait(CallId call, GenerationStats* stats = nullptr) = 0;
  // One round of the batch on this thread (admit what fits, decode one token for every row,
  // retire what ended), once no other thread is driving it. Returns whether requests remain.
  // Not from a token callback (std::logic_error).
  virtual bool step() = 0;
};

}  // namespace qdgen::inference
