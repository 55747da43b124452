#include "decode_batch.hpp"

#include <algorithm>
#include <stdexcept>

#include "model_threads.hpp"
#include "padded_block.hpp"
#include "prefix_sharing.hpp"

namespace qdgen::inference {

DecodeBatch::DecodeBatch(const LlamaRuntime& runtime, PrefixCache& kept)
    : runtime_(runtime), kept_(kept) {}

void DecodeBatch::enqueue(GenerationCall& call) {
  for (std::size_t i = 0; i < call.requests.size(); ++i) {
    if (call.ended[i]) continue;
    waiting_.push_back({&call, i});
    ++call.waiting;
  }
}

void DecodeBatch::cancel(GenerationCall& call, std::size_t index) {
  if (call.ended[index]) return;
  const auto waiting = std::find_if(waiting_.begin(), waiting_.end(), [&](const Waiting& w) {
    return w.call == &call && w.index == index;
  });
  if (waiting != waiting_.end()) {
    waiting_.erase(waiting);
    if (--call.waiting == 0) call.own_prefixes.clear();
    tell(call, index, {}, true, FinishReason::kCancelled);
    end_request(call, index, {{}, FinishReason::kCancelled});
    return;
  }
  for (Row& row : active_) {
    if (row.call != &call || row.index != index || row.ended) continue;
    row.ended = true;
    row.result.finish = FinishReason::kCancelled;
    tell(call, index, {}, true, FinishReason::kCancelled);
  }
  retire_ended();
}

void DecodeBatch::round() {
  try {
    admit();
  } catch (...) {
    fail_running(std::current_exception(), true);
  }
  try {
    if (!active_.empty()) decode_step();
  } catch (...) {
    fail_running(std::current_exception(), false);
  }
  if (empty()) cache_.reset();  // its buffers go back to the runtime's pool
}

std::vector<GenerationCall*> DecodeBatch::take_ended_calls() {
  return std::exchange(ended_calls_, {});
}

void DecodeBatch::admit() {
  while (!waiting_.empty()) {
    const Waiting front = waiting_.front();
    if (static_cast<std::int64_t>(active_.size()) >= front.call->options.max_batch) break;
    make_room(front);
    gather_group();
    run_group();
    if (some_call_failed_) retire_ended();
  }
}

void DecodeBatch::make_room(const Waiting& front) {
  const std::int64_t context = runtime_.config().max_position_embeddings;
  const auto active = static_cast<std::int64_t>(active_.size());
  const auto waiting = static_cast<std::int64_t>(waiting_.size());
  std::int64_t most_rows = 1, longest = 1;
  for (const Waiting& w : waiting_) {
    most_rows = std::max(most_rows, w.call->options.max_batch);
    longest = std::max(longest, w.call->positions_needed(w.index));
  }
  if (!cache_) {
    cache_ = runtime_.make_cache(std::min(most_rows, waiting), longest);
    return;
  }
  const bool short_of_rows = active >= cache_->slots;
  const bool short_of_room = front.call->positions_needed(front.index) > cache_->capacity;
  if (!short_of_rows && !short_of_room) return;
  for (const Row& row : active_) most_rows = std::max(most_rows, row.call->options.max_batch);
  const std::int64_t usable_rows = std::min(most_rows, active + waiting);
  const std::int64_t slots = short_of_rows
                                 ? std::min(usable_rows, std::max(2 * cache_->slots, active + 1))
                                 : cache_->slots;
  const std::int64_t capacity =
      short_of_room ? std::min(context, std::max(longest, 2 * cache_->capacity)) : cache_->capacity;
  KvCache grown = runtime_.make_cache(slots, capacity);
  for (std::int64_t r = 0; r < active; ++r) {
    runtime_.copy_slot(*cache_, r, grown, r, active_[r].length);
  }
  cache_ = std::move(grown);
}

// Takes waiting requests, in order, into the next prompt pass (see the header's admission
// rule), copying each one's reusable prefix into its slot.
void DecodeBatch::gather_group() {
  const std::int64_t capacity = cache_->capacity;
  std::int64_t group_end = 0, group_steps = 0, real = 0;
  while (!waiting_.empty()) {
    const Waiting next = waiting_.front();
    GenerationCall& call = *next.call;
    const TokenRequest& request = call.requests[next.index];
    const auto row = static_cast<std::int64_t>(active_.size() + group_.size());
    if (row >= cache_->slots || row >= call.options.max_batch) break;
    if (!group_.empty() && call.positions_needed(next.index) > capacity) break;
    PrefixSources sources(runtime_, kept_, call.own_prefixes);
    const std::span<const std::int32_t> prompt(request.prompt);
    if (const std::size_t shared = call.shared_prefix[next.index]; shared > 0) {
      const PrefixSources::Work work = sources.ensure(prompt.first(shared), request.lora);
      call.stats.prompt_tokens += work.computed;
      call.stats.reused_tokens += work.reused;
    }
    const auto length = static_cast<std::int64_t>(prompt.size());
    auto [owner, hit] = sources.best_hit(prompt, request.lora, length - 1);
    if (hit.length < call.min_prefix) hit = {};
    const std::int64_t start = hit.length, rest = length - start;
    const std::int64_t steps = std::max(group_steps, rest);
    const std::int64_t end = std::max(group_end, start) + steps;
    const auto rows = static_cast<std::int64_t>(group_.size()) + 1;
    if (!group_.empty() && (end > capacity || !padding_is_affordable(rows, steps, real + rest))) {
      break;
    }
    waiting_.pop_front();
    owner->copy(hit, *cache_, row);
    call.stats.reused_tokens += hit.length;
    if (--call.waiting == 0) call.own_prefixes.clear();
    group_.push_back({next, start});
    group_end = std::max(group_end, start);
    group_steps = steps;
    real += rest;
  }
}

// One forward pass over the group's prompts (each row padded at its end to the group's longest
// remainder, which causality keeps unseen and decoding overwrites), instead of one pass, and so
// one read of every weight, per request; then each samples its first token.
void DecodeBatch::run_group() {
  if (group_.empty()) return;
  const std::int64_t vocab = runtime_.config().vocab_size;
  const auto rows = static_cast<std::int64_t>(group_.size());
  const auto first_slot = static_cast<std::int64_t>(active_.size());
  std::int64_t steps = 0;
  std::vector<std::int64_t> starts;
  for (const Joining& joining : group_) {
    const TokenRequest& request = joining.request.call->requests[joining.request.index];
    steps = std::max(steps, static_cast<std::int64_t>(request.prompt.size()) - joining.start);
    starts.push_back(joining.start);
  }
  at::Tensor tokens = at::zeros({rows, steps}, at::kLong);
  std::vector<std::int64_t> last(group_.size());
  AdapterRows adapters(runtime_);
  for (std::int64_t g = 0; g < rows; ++g) {
    GenerationCall& call = *group_[g].request.call;
    const TokenRequest& request = call.requests[group_[g].request.index];
    adapters.add(request.lora);
    const auto rest =
        std::span<const std::int32_t>(request.prompt).subspan(static_cast<std::size_t>(starts[g]));
    std::copy(rest.begin(), rest.end(), tokens.data_ptr<std::int64_t>() + g * steps);
    last[g] = g * steps + static_cast<std::int64_t>(rest.size()) - 1;
    call.stats.prompt_tokens += static_cast<std::int64_t>(rest.size());
  }
  const at::Tensor hidden = runtime_.forward(*cache_, tokens, first_slot, starts, adapters.rows());
  const at::Tensor logits =
      runtime_
          .logits(hidden.view({rows * steps, hidden.size(2)})
                      .index_select(0, at::tensor(last, at::kLong).to(hidden.device())))
          .contiguous();
  for (std::int64_t g = 0; g < rows; ++g) {
    GenerationCall& call = *group_[g].request.call;
    const std::size_t index = group_[g].request.index;
    group_done_ = static_cast<std::size_t>(g) + 1;
    const TokenRequest& request = call.requests[index];
    const std::int64_t slot = first_slot + g;
    // A prompt that shares nothing within its call may share with a later call's.
    if (call.shared_prefix[index] == 0) kept_.insert(request.prompt, request.lora, *cache_, slot);
    Row row{&call,
            index,
            Sampler(request.sampling, runtime_.cpu_kernels()),
            static_cast<std::int64_t>(request.prompt.size()),
            {},
            false};
    append(row,
           row.sampler.next(std::span<const float>(logits.data_ptr<float>() + g * vocab, vocab)));
    if (row.ended) {
      end_request(call, index, std::move(row.result));
      continue;
    }
    // A row that ended at once leaves a hole: the rows behind it move down, KV too.
    const auto place = static_cast<std::int64_t>(active_.size());
    if (slot != place) runtime_.copy_slot(*cache_, slot, *cache_, place, row.length);
    active_.push_back(std::move(row));
  }
  group_.clear();
  group_done_ = 0;
}

void DecodeBatch::decode_step() {
  const std::int64_t vocab = runtime_.config().vocab_size;
  const auto rows = static_cast<std::int64_t>(active_.size());
  at::Tensor tokens = at::empty({rows, 1}, at::kLong);
  std::vector<std::int64_t> starts(rows);
  AdapterRows adapters(runtime_);
  for (std::int64_t r = 0; r < rows; ++r) {
    tokens.data_ptr<std::int64_t>()[r] = active_[r].result.tokens.back();
    starts[r] = active_[r].length;
    adapters.add(active_[r].call->requests[active_[r].index].lora);
  }
  const at::Tensor logits =
      runtime_.logits(runtime_.forward(*cache_, tokens, 0, starts, adapters.rows()).select(1, 0))
          .contiguous();
  ++step_;
  for (Row& row : active_) {
    if (row.call->last_step == step_) continue;
    row.call->last_step = step_;
    ++row.call->stats.decode_steps;
  }
  // Rows sample in parallel (each has its own sampler), then take their tokens in order.
  const float* logits_data = logits.data_ptr<float>();
  std::vector<std::int32_t> next(static_cast<std::size_t>(rows));
  parallel_rows(runtime_, rows, [&](std::int64_t r) {
    next[r] = active_[r].sampler.next(std::span<const float>(logits_data + r * vocab, vocab));
  });
  for (std::int64_t r = 0; r < rows; ++r) {
    ++active_[r].length;
    append(active_[r], next[r]);
  }
  retire_ended();
}

void DecodeBatch::append(Row& row, std::int32_t token) {
  GenerationCall& call = *row.call;
  const TokenRequest& request = call.requests[row.index];
  row.result.tokens.push_back(token);
  ++call.stats.generated_tokens;
  // A decoder that throws fails its own call only.
  const auto has_stop_string = [&] {
    try {
      const std::string text = call.options.decode(row.result.tokens);
      return std::any_of(request.stop.begin(), request.stop.end(),
                         [&](const std::string& s) { return text.find(s) != std::string::npos; });
    } catch (...) {
      if (!call.error) call.error = std::current_exception();
      some_call_failed_ = true;
      return true;
    }
  };
  if (request.stop_at_eos && call.is_eos(token)) {
    row.result.finish = FinishReason::kEos;
    row.ended = true;
  } else if (!request.stop.empty() && has_stop_string()) {
    row.result.finish = FinishReason::kStop;
    row.ended = true;
  } else if (static_cast<std::int64_t>(row.result.tokens.size()) >= request.max_tokens) {
    row.result.finish = FinishReason::kLength;
    row.ended = true;
  } else if (row.length >= call.config.max_position_embeddings) {
    row.result.finish = FinishReason::kContext;
    row.ended = true;
  }
  const bool go_on = tell(call, row.index, std::span(&token, 1), row.ended, row.result.finish);
  if (!go_on && !row.ended) {
    row.ended = true;
    row.result.finish = FinishReason::kCancelled;
    tell(call, row.index, {}, true, FinishReason::kCancelled);
  }
}

// Passes `tokens` to the request's callback. Returns false when it asks to cancel, or threw:
// then the call fails with what it threw, and its other requests end too.
bool DecodeBatch::tell(GenerationCall& call, std::size_t index,
                       std::span<const std::int32_t> tokens, bool finished, FinishReason finish) {
  const TokenStepCallback& callback = call.requests[index].on_tokens;
  if (!callback || call.error) return true;
  try {
    return callback(TokenStep{tokens, finished, finish});
  } catch (...) {
    call.error = std::current_exception();
    some_call_failed_ = true;
    return false;
  }
}

void DecodeBatch::end_request(GenerationCall& call, std::size_t index, TokenResult result) {
  call.results[index] = std::move(result);
  call.ended[index] = true;
  if (--call.unended > 0) return;
  call.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - call.started).count();
  ended_calls_.push_back(&call);
}

// Ended rows leave, the last row moving into each freed slot; the requests of failed calls,
// waiting or active, end with them.
void DecodeBatch::retire_ended() {
  if (some_call_failed_) {
    some_call_failed_ = false;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (!it->call->error) {
        ++it;
        continue;
      }
      GenerationCall& call = *it->call;
      const std::size_t index = it->index;
      it = waiting_.erase(it);
      if (--call.waiting == 0) call.own_prefixes.clear();
      end_request(call, index, {{}, FinishReason::kCancelled});
    }
    for (Row& row : active_) {
      if (row.call->error && !row.ended) {
        row.ended = true;
        row.result.finish = FinishReason::kCancelled;
      }
    }
  }
  for (auto r = static_cast<std::int64_t>(active_.size()) - 1; r >= 0; --r) {
    if (!active_[r].ended) continue;
    end_request(*active_[r].call, active_[r].index, std::move(active_[r].result));
    const auto last = static_cast<std::int64_t>(active_.size()) - 1;
    if (r != last) {
      runtime_.copy_slot(*cache_, last, *cache_, r, active_[last].length);
      active_[r] = std::move(active_[last]);
    }
    active_.pop_back();
  }
}

// After a model failure the KV of the running rows is in doubt: every call with a row in the
// batch, in the pass being admitted or (when admitting) at the head of the queue fails, and the
// cache goes.
void DecodeBatch::fail_running(std::exception_ptr error, bool admitting) {
  const auto fail = [&](GenerationCall& call) {
    if (!call.error) call.error = error;
  };
  for (std::size_t g = group_done_; g < group_.size(); ++g) {
    GenerationCall& call = *group_[g].request.call;
    fail(call);
    end_request(call, group_[g].request.index, {{}, FinishReason::kCancelled});
  }
  group_.clear();
  group_done_ = 0;
  if (admitting && !waiting_.empty()) fail(*waiting_.front().call);
  for (Row& row : active_) {
    fail(*row.call);
    end_request(*row.call, row.index, std::move(row.result));
  }
  active_.clear();
  cache_.reset();
  some_call_failed_ = true;
  retire_ended();  // the failed calls' waiting requests end too
}

}  // namespace qdgen::inference
