#include "batch_generation.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <stdexcept>

#include "packed_linear.hpp"
#include "prefix_cache.hpp"
#include "prefix_sharing.hpp"
#include "sampler.hpp"

namespace qdgen::inference {
namespace {

at::Tensor token_row(std::span<const std::int32_t> ids) {
  at::Tensor row = at::empty({1, static_cast<std::int64_t>(ids.size())}, at::kLong);
  std::copy(ids.begin(), ids.end(), row.data_ptr<std::int64_t>());
  return row;
}

struct ActiveSequence {
  std::size_t request = 0;
  Sampler sampler;
  std::int64_t length = 0;  // positions held in the cache
  TokenResult result;
  bool finished = false;
};

}  // namespace

void check_token_ids(const LlamaConfig& config, std::span<const std::int32_t> ids,
                     const std::string& what) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= config.vocab_size) {
      throw std::invalid_argument(what + ": token id " + std::to_string(ids[i]) + " at position " +
                                  std::to_string(i) + " is outside the vocabulary [0, " +
                                  std::to_string(config.vocab_size) + ")");
    }
  }
}

void validate_requests(const LlamaConfig& config, std::span<const TokenRequest> requests,
                       bool can_decode) {
  const std::int64_t context = config.max_position_embeddings;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const TokenRequest& r = requests[i];
    const std::string name = "request " + std::to_string(i);
    if (r.prompt.empty()) throw std::invalid_argument(name + ": the prompt has no tokens");
    if (static_cast<std::int64_t>(r.prompt.size()) > context) {
      throw std::invalid_argument(name + ": the prompt has " + std::to_string(r.prompt.size()) +
                                  " tokens, more than the model's context of " +
                                  std::to_string(context));
    }
    check_token_ids(config, r.prompt, name + " prompt");
    if (r.max_tokens < 0) throw std::invalid_argument(name + ": max_tokens must be >= 0");
    if (!(r.sampling.temperature >= 0)) {
      throw std::invalid_argument(name + ": temperature must be >= 0 (0 is greedy)");
    }
    if (r.sampling.top_k < 0) throw std::invalid_argument(name + ": top_k must be >= 0");
    if (!(r.sampling.top_p > 0 && r.sampling.top_p <= 1)) {
      throw std::invalid_argument(name + ": top_p must be in (0, 1]");
    }
    if (!r.stop.empty() && !can_decode) {
      throw std::invalid_argument(name + ": stop strings need a tokenizer to decode tokens");
    }
    for (const auto& stop : r.stop) {
      if (stop.empty()) throw std::invalid_argument(name + ": a stop string is empty");
    }
    if (!r.lora.adapters.empty()) {
      throw std::invalid_argument(name + ": LoRA mixtures are not supported by this model yet");
    }
  }
}

std::vector<TokenResult> generate_batched(const LlamaRuntime& runtime,
                                          std::span<const TokenRequest> requests,
                                          const GenerationOptions& options, PrefixCache& kept,
                                          GenerationStats* stats) {
  const auto started = std::chrono::steady_clock::now();
  const LlamaConfig& config = runtime.config();
  validate_requests(config, requests, static_cast<bool>(options.decode));
  if (options.max_batch < 1) throw std::invalid_argument("max_batch must be >= 1");
  const std::int64_t context = config.max_position_embeddings;
  const std::int64_t vocab = config.vocab_size;

  std::vector<TokenResult> results(requests.size());
  std::deque<std::size_t> waiting;
  std::int64_t capacity = 1;
  std::vector<std::vector<std::int32_t>> prompts;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    prompts.push_back(requests[i].prompt);
    if (requests[i].max_tokens == 0) continue;
    waiting.push_back(i);
    // The last generated token is never fed back, hence the - 1.
    const auto needed =
        static_cast<std::int64_t>(requests[i].prompt.size()) + requests[i].max_tokens - 1;
    capacity = std::max(capacity, std::min(context, needed));
  }
  const std::int64_t min_prefix = std::max<std::int64_t>(1, options.min_shared_prefix);
  const auto prefix_lengths = shared_prefix_lengths(prompts, static_cast<std::size_t>(min_prefix));
  GenerationStats local;
  if (waiting.empty()) {
    if (stats) *stats = local;
    return results;
  }
  const std::int64_t slots =
      std::min<std::int64_t>(options.max_batch, static_cast<std::int64_t>(waiting.size()));
  KvCache cache = runtime.make_cache(slots, capacity);
  // Prefixes that several prompts of this call share go into the kept cache (for later calls
  // too), or, when it has no room, into one that lives for this call only.
  PrefixCache call_prefixes(runtime, -1);
  const auto best_hit = [&](std::span<const std::int32_t> tokens, std::int64_t max_length) {
    const PrefixCache::Hit a = kept.find(tokens, max_length);
    const PrefixCache::Hit b = call_prefixes.find(tokens, max_length);
    return b.length > a.length ? std::pair{&call_prefixes, b} : std::pair{&kept, a};
  };
  const auto ensure_prefix = [&](std::span<const std::int32_t> prefix) {
    const auto length = static_cast<std::int64_t>(prefix.size());
    const auto [owner, hit] = best_hit(prefix, length);
    if (hit.length == length) return;
    KvCache kv = runtime.make_cache(1, length);
    owner->copy(hit, kv, 0);
    local.reused_tokens += hit.length;
    runtime.forward(kv, token_row(prefix.subspan(hit.length)), 0,
                    std::vector<std::int64_t>{hit.length});
    local.prompt_tokens += length - hit.length;
    if (!kept.insert(prefix, kv, 0)) call_prefixes.insert(prefix, kv, 0);
  };
  std::vector<ActiveSequence> active;
  active.reserve(slots);

  const auto is_eos = [&](std::int32_t token) {
    if (!options.eos_token_ids.empty()) {
      return std::find(options.eos_token_ids.begin(), options.eos_token_ids.end(), token) !=
             options.eos_token_ids.end();
    }
    const auto& ids = config.eos_token_ids;
    return std::find(ids.begin(), ids.end(), static_cast<std::int64_t>(token)) != ids.end();
  };
  const auto append = [&](ActiveSequence& sequence, std::int32_t token) {
    const TokenRequest& request = requests[sequence.request];
    sequence.result.tokens.push_back(token);
    ++local.generated_tokens;
    if (request.stop_at_eos && is_eos(token)) {
      sequence.result.finish = FinishReason::kEos;
      sequence.finished = true;
    } else if (!request.stop.empty() &&
               std::any_of(request.stop.begin(), request.stop.end(),
                           [text = options.decode(sequence.result.tokens)](const std::string& s) {
                             return text.find(s) != std::string::npos;
                           })) {
      sequence.result.finish = FinishReason::kStop;
      sequence.finished = true;
    } else if (static_cast<std::int64_t>(sequence.result.tokens.size()) >= request.max_tokens) {
      sequence.result.finish = FinishReason::kLength;
      sequence.finished = true;
    } else if (sequence.length >= context) {
      sequence.result.finish = FinishReason::kContext;
      sequence.finished = true;
    }
  };

  // Waiting requests join in groups: one forward pass over all their prompts (each row padded
  // at its end to the group's longest remainder, which causality keeps unseen, and which
  // decoding overwrites), instead of one pass, and so one read of every weight, per request.
  std::vector<std::size_t> group;
  std::vector<std::int64_t> group_starts;
  const auto admit_group = [&] {
    if (group.empty()) return;
    std::int64_t steps = 0;
    for (std::size_t g = 0; g < group.size(); ++g) {
      steps = std::max(
          steps, static_cast<std::int64_t>(requests[group[g]].prompt.size()) - group_starts[g]);
    }
    const auto rows = static_cast<std::int64_t>(group.size());
    const auto first_slot = static_cast<std::int64_t>(active.size());
    at::Tensor tokens = at::zeros({rows, steps}, at::kLong);
    std::vector<std::int64_t> last(group.size());
    for (std::size_t g = 0; g < group.size(); ++g) {
      const TokenRequest& request = requests[group[g]];
      const std::int64_t prefix_length = group_starts[g];  // its KV is in the slot already
      const auto rest = std::span<const std::int32_t>(request.prompt).subspan(prefix_length);
      std::copy(rest.begin(), rest.end(),
                tokens.data_ptr<std::int64_t>() + static_cast<std::int64_t>(g) * steps);
      last[g] = static_cast<std::int64_t>(g) * steps + static_cast<std::int64_t>(rest.size()) - 1;
      local.prompt_tokens += static_cast<std::int64_t>(rest.size());
    }
    const at::Tensor hidden = runtime.forward(cache, tokens, first_slot, group_starts);
    const at::Tensor logits =
        runtime
            .logits(hidden.view({rows * steps, hidden.size(2)})
                        .index_select(0, at::tensor(last, at::kLong).to(hidden.device())))
            .contiguous();
    for (std::size_t g = 0; g < group.size(); ++g) {
      const TokenRequest& request = requests[group[g]];
      // A prompt that shares nothing within this call may share with a later call's.
      if (prefix_lengths[group[g]] == 0) {
        kept.insert(request.prompt, cache, first_slot + static_cast<std::int64_t>(g));
      }
      ActiveSequence sequence{group[g],
                              Sampler(request.sampling, runtime.cpu_kernels()),
                              static_cast<std::int64_t>(request.prompt.size()),
                              {},
                              false};
      append(sequence,
             sequence.sampler.next(std::span<const float>(
                 logits.data_ptr<float>() + static_cast<std::int64_t>(g) * vocab, vocab)));
      if (sequence.finished) {
        results[group[g]] = std::move(sequence.result);
        continue;
      }
      // A row that finished at once leaves a hole: the rows behind it move down, KV too.
      const auto slot = first_slot + static_cast<std::int64_t>(g);
      const auto index = static_cast<std::int64_t>(active.size());
      if (slot != index) runtime.copy_slot(cache, slot, cache, index, sequence.length);
      active.push_back(std::move(sequence));
    }
    group.clear();
    group_starts.clear();
  };

  while (true) {
    while (!waiting.empty() && static_cast<std::int64_t>(active.size()) < slots) {
      // A group fills the free slots; a row joins while the padded block fits the cache and
      // pads no more than the tokens it holds.
      std::int64_t group_end = 0, group_steps = 0, real = 0;
      const auto free_slots = slots - static_cast<std::int64_t>(active.size());
      while (!waiting.empty() && static_cast<std::int64_t>(group.size()) < free_slots) {
        const std::size_t next = waiting.front();
        const TokenRequest& request = requests[next];
        const std::span<const std::int32_t> prompt(request.prompt);
        if (prefix_lengths[next] > 0) ensure_prefix(prompt.first(prefix_lengths[next]));
        auto [owner, hit] = best_hit(prompt, static_cast<std::int64_t>(prompt.size()) - 1);
        if (hit.length < min_prefix) hit = {};
        const std::int64_t start = hit.length;
        const auto rest = static_cast<std::int64_t>(request.prompt.size()) - start;
        const std::int64_t steps = std::max(group_steps, rest);
        const std::int64_t end = std::max(group_end, start) + steps;
        const auto rows = static_cast<std::int64_t>(group.size()) + 1;
        if (!group.empty() && (end > capacity || rows * steps > 2 * (real + rest) + 64)) break;
        waiting.pop_front();
        owner->copy(hit, cache, static_cast<std::int64_t>(active.size() + group.size()));
        local.reused_tokens += hit.length;
        group.push_back(next);
        group_starts.push_back(start);
        group_end = std::max(group_end, start);
        group_steps = steps;
        real += rest;
      }
      admit_group();
    }
    if (active.empty()) break;
    const auto rows = static_cast<std::int64_t>(active.size());
    at::Tensor tokens = at::empty({rows, 1}, at::kLong);
    std::vector<std::int64_t> starts(rows);
    for (std::int64_t r = 0; r < rows; ++r) {
      tokens.data_ptr<std::int64_t>()[r] = active[r].result.tokens.back();
      starts[r] = active[r].length;
    }
    const at::Tensor logits =
        runtime.logits(runtime.forward(cache, tokens, 0, starts).select(1, 0)).contiguous();
    ++local.decode_steps;
    // Rows sample in parallel (each has its own sampler), then take their tokens in order.
    const float* logits_data = logits.data_ptr<float>();
    std::vector<std::int32_t> next(static_cast<std::size_t>(rows));
    runtime.parallel_rows(rows, [&](std::int64_t r) {
      next[r] = active[r].sampler.next(std::span<const float>(logits_data + r * vocab, vocab));
    });
    for (std::int64_t r = 0; r < rows; ++r) {
      ++active[r].length;
      append(active[r], next[r]);
    }
    // Finished sequences leave; the last active one moves into the freed slot.
    for (std::int64_t r = rows - 1; r >= 0; --r) {
      if (!active[r].finished) continue;
      results[active[r].request] = std::move(active[r].result);
      const std::int64_t last = static_cast<std::int64_t>(active.size()) - 1;
      if (r != last) {
        runtime.copy_slot(cache, last, cache, r, active[last].length);
        active[r] = std::move(active[last]);
      }
      active.pop_back();
    }
  }
  local.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (stats) *stats = local;
  return results;
}

std::vector<double> score_continuations(const LlamaRuntime& runtime,
                                        std::span<const std::int32_t> prompt,
                                        std::span<const std::vector<std::int32_t>> continuations,
                                        PrefixCache& kept) {
  const LlamaConfig& config = runtime.config();
  if (prompt.empty()) throw std::invalid_argument("score: the prompt has no tokens");
  check_token_ids(config, prompt, "score prompt");
  const auto p = static_cast<std::int64_t>(prompt.size());
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < continuations.size(); ++i) {
    const std::string name = "score continuation " + std::to_string(i);
    if (continuations[i].empty()) throw std::invalid_argument(name + ": no tokens");
    check_token_ids(config, continuations[i], name);
    const auto length = static_cast<std::int64_t>(continuations[i].size());
    if (p + length > config.max_position_embeddings) {
      throw std::invalid_argument(name + ": prompt and continuation have " +
                                  std::to_string(p + length) +
                                  " tokens, more than the model's context of " +
                                  std::to_string(config.max_position_embeddings));
    }
    longest = std::max(longest, length);
  }
  std::vector<double> scores(continuations.size(), 0.0);
  if (continuations.empty()) return scores;

  // The prompt's KV: what a kept entry shares with it, then the rest (its last token at
  // least, for the first continuation token's logits); then it is kept for later calls.
  KvCache prefix = runtime.make_cache(1, p);
  const PrefixCache::Hit hit = kept.find(prompt, p - 1);
  kept.copy(hit, prefix, 0);
  const at::Tensor prompt_hidden = runtime.forward(prefix, token_row(prompt.subspan(hit.length)), 0,
                                                   std::vector<std::int64_t>{hit.length});
  kept.insert(prompt, prefix, 0);
  const at::Tensor first = runtime.logits(prompt_hidden[0][p - hit.length - 1]).contiguous();
  const std::span<const float> first_row(first.data_ptr<float>(),
                                         static_cast<std::size_t>(config.vocab_size));
  const double first_normalizer = log_normalizer(first_row, runtime.cpu_kernels());
  for (std::size_t i = 0; i < continuations.size(); ++i) {
    scores[i] = static_cast<double>(first_row[static_cast<std::size_t>(continuations[i][0])]) -
                first_normalizer;
  }
  // Every continuation token but the last is fed, all rows starting right after the prompt;
  // shorter rows are padded at their end, where causality keeps the padding unseen.
  const std::int64_t fed = longest - 1;
  if (fed == 0) return scores;
  const std::int64_t vocab = config.vocab_size;
  const std::int64_t chunk = std::clamp<std::int64_t>(256 / fed, 1, 64);
  KvCache cache = runtime.make_cache(
      std::min<std::int64_t>(chunk, static_cast<std::int64_t>(continuations.size())), p + fed);
  for (std::size_t begin = 0; begin < continuations.size();
       begin += static_cast<std::size_t>(chunk)) {
    const std::size_t end = std::min(continuations.size(), begin + static_cast<std::size_t>(chunk));
    const auto rows = static_cast<std::int64_t>(end - begin);
    at::Tensor tokens = at::zeros({rows, fed}, at::kLong);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& c = continuations[begin + r];
      runtime.copy_slot(prefix, 0, cache, r, p);
      std::copy(c.begin(), c.end() - 1, tokens.data_ptr<std::int64_t>() + r * fed);
    }
    const at::Tensor hidden = runtime.forward(cache, tokens, 0, std::vector<std::int64_t>(rows, p))
                                  .reshape({rows * fed, config.hidden_size});
    // Fed position j of row r predicts token j + 1 of its continuation. Logits go through in
    // blocks of rows that stay in cache, and each row needs only its normaliser and one logit:
    // no [rows * fed, vocab] log-softmax tensor (57 MB for 64 x 7 rows of a 32k vocabulary,
    // fresh pages on every call).
    std::vector<double> predicted(static_cast<std::size_t>(rows * fed), 0.0);
    constexpr std::int64_t kLogitRows = 64;
    for (std::int64_t first_row_index = 0; first_row_index < rows * fed;
         first_row_index += kLogitRows) {
      const std::int64_t n = std::min(kLogitRows, rows * fed - first_row_index);
      const at::Tensor logits = runtime.logits(hidden.narrow(0, first_row_index, n)).contiguous();
      const float* data = logits.data_ptr<float>();
      runtime.parallel_rows(n, [&](std::int64_t i) {
        const std::int64_t row = first_row_index + i, r = row / fed, j = row % fed;
        const auto& c = continuations[begin + static_cast<std::size_t>(r)];
        if (j + 1 >= static_cast<std::int64_t>(c.size())) return;  // padding
        const std::span<const float> values(data + i * vocab, static_cast<std::size_t>(vocab));
        predicted[static_cast<std::size_t>(row)] =
            static_cast<double>(values[static_cast<std::size_t>(c[j + 1])]) -
            log_normalizer(values, runtime.cpu_kernels());
      });
    }
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& c = continuations[begin + r];
      for (std::size_t t = 1; t < c.size(); ++t) {
        scores[begin + r] += predicted[static_cast<std::size_t>(r * fed) + t - 1];
      }
    }
  }
  return scores;
}

std::vector<std::vector<float>> embed_sequences(const LlamaRuntime& runtime,
                                                std::span<const std::vector<std::int32_t>> texts,
                                                bool skip_first_token) {
  const LlamaConfig& config = runtime.config();
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string name = "embed text " + std::to_string(i);
    if (texts[i].size() <= (skip_first_token ? 1u : 0u)) {
      throw std::invalid_argument(name + ": no tokens to pool");
    }
    check_token_ids(config, texts[i], name);
    const auto length = static_cast<std::int64_t>(texts[i].size());
    if (length > config.max_position_embeddings) {
      throw std::invalid_argument(name + ": " + std::to_string(length) +
                                  " tokens, more than the model's context of " +
                                  std::to_string(config.max_position_embeddings));
    }
    longest = std::max(longest, length);
  }
  std::vector<std::vector<float>> vectors;
  if (texts.empty()) return vectors;
  const std::int64_t chunk = std::clamp<std::int64_t>(2048 / longest, 1, 64);
  KvCache cache = runtime.make_cache(
      std::min<std::int64_t>(chunk, static_cast<std::int64_t>(texts.size())), longest);
  for (std::size_t begin = 0; begin < texts.size(); begin += static_cast<std::size_t>(chunk)) {
    const std::size_t end = std::min(texts.size(), begin + static_cast<std::size_t>(chunk));
    const auto rows = static_cast<std::int64_t>(end - begin);
    std::int64_t steps = 0;
    for (std::size_t i = begin; i < end; ++i)
      steps = std::max(steps, static_cast<std::int64_t>(texts[i].size()));
    at::Tensor tokens = at::zeros({rows, steps}, at::kLong);
    at::Tensor weights = at::zeros({rows, steps, 1}, at::kFloat);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& text = texts[begin + r];
      const auto length = static_cast<std::int64_t>(text.size());
      std::copy(text.begin(), text.end(), tokens.data_ptr<std::int64_t>() + r * steps);
      const std::int64_t skip = skip_first_token ? 1 : 0;
      weights[r].narrow(0, skip, length - skip).fill_(1.0 / static_cast<double>(length - skip));
    }
    const at::Tensor hidden =
        runtime.forward(cache, tokens, 0, std::vector<std::int64_t>(rows, 0)).to(at::kFloat).cpu();
    const at::Tensor mean = (hidden * weights).sum(1);
    const at::Tensor unit = (mean / mean.norm(2, -1, true).clamp_min(1e-12)).contiguous();
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* row = unit.data_ptr<float>() + r * config.hidden_size;
      vectors.emplace_back(row, row + config.hidden_size);
    }
  }
  return vectors;
}

}  // namespace qdgen::inference
