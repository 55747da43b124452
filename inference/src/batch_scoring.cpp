#include "batch_scoring.hpp"

#include <algorithm>

#include "lora_mixture.hpp"
#include "model_threads.hpp"
#include "padded_block.hpp"
#include "prefix_sharing.hpp"
#include "sampler.hpp"

namespace qdgen::inference {
namespace {

constexpr std::int64_t kMaxRows = 64;
// The shortest prefix shared by a call's prompts that is worth computing apart (as
// GenerationOptions::min_shared_prefix's default).
constexpr std::size_t kMinSharedPrefix = 4;
// The KV a group of prompts may hold at once.
constexpr std::int64_t kPromptGroupBytes = std::int64_t{256} << 20;
// A continuation pass feeds at most this many positions (rows x fed tokens), unless one row
// alone has more.
constexpr std::int64_t kContinuationPositions = 256;
// Logits go through in blocks of rows that stay in cache: each row needs only its normaliser
// and one logit, so no [rows * fed, vocab] log-softmax tensor (57 MB for 64 x 7 rows of a 32k
// vocabulary, fresh pages on every call).
constexpr std::int64_t kLogitRows = 64;

struct PromptRow {
  std::size_t request;
  std::int64_t start;  // positions served by a reused prefix
  std::pair<PrefixCache*, PrefixCache::Hit> hit;
};

struct ContinuationRow {
  std::size_t group_row;  // its prompt's row in the group
  std::size_t continuation;
};

class Scorer {
 public:
  Scorer(const LlamaRuntime& runtime, std::span<const TokenScoreRequest> requests,
         PrefixCache& kept)
      : runtime_(runtime),
        config_(runtime.config()),
        requests_(requests),
        kept_(kept),
        own_(runtime, -1),
        sources_(runtime, kept, own_),
        scores_(requests.size()) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      mixtures_.push_back(resolved_mixture(requests[i].lora, requests[i].prompt.size()));
      scores_[i].assign(requests[i].continuations.size(), 0.0);
      if (!requests[i].continuations.empty()) pending_.push_back(i);
    }
    std::vector<std::vector<std::int32_t>> prompts;
    std::vector<LoraMixture> mixtures;
    for (const std::size_t i : pending_) {
      prompts.push_back(requests[i].prompt);
      mixtures.push_back(mixtures_[i]);
    }
    shared_ = shared_prefix_lengths(prompts, mixtures, kMinSharedPrefix);
    const LlamaConfig& c = config_;
    bytes_per_position_ = 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim *
                          static_cast<std::int64_t>(c10::elementSize(runtime.dtype()));
  }

  std::vector<std::vector<double>> run() {
    for (std::size_t next = 0; next < pending_.size();) next = score_group(next);
    return std::move(scores_);
  }

 private:
  std::span<const std::int32_t> prompt(std::size_t request) const {
    return requests_[request].prompt;
  }

  // Scores the prompts pending_[first ..] that fit one group; returns where the next group starts.
  std::size_t score_group(std::size_t first) {
    // Shared prefixes first (they may insert, which would invalidate hits found before).
    const std::size_t candidates = std::min(pending_.size(), first + kMaxRows);
    for (std::size_t t = first; t < candidates; ++t) {
      if (shared_[t] > 0) {
        sources_.ensure(prompt(pending_[t]).first(shared_[t]), mixtures_[pending_[t]]);
      }
    }
    std::vector<PromptRow> rows;
    std::int64_t group_end = 0, steps = 0, real = 0, capacity = 0;
    for (std::size_t t = first; t < candidates; ++t) {
      const std::size_t request = pending_[t];
      const auto length = static_cast<std::int64_t>(prompt(request).size());
      // All but the last position may be reused: it must run for the first token's logits.
      const auto hit = sources_.best_hit(prompt(request), mixtures_[request], length - 1);
      const std::int64_t start = hit.second.length, rest = length - start;
      const std::int64_t new_steps = std::max(steps, rest);
      const std::int64_t end = std::max(group_end, start) + new_steps;
      const auto count = static_cast<std::int64_t>(rows.size()) + 1;
      if (!rows.empty() && (end > config_.max_position_embeddings ||
                            count * end * bytes_per_position_ > kPromptGroupBytes ||
                            !padding_is_affordable(count, new_steps, real + rest))) {
        break;
      }
      rows.push_back({request, start, hit});
      group_end = std::max(group_end, start);
      steps = new_steps;
      real += rest;
      capacity = end;
    }
    KvCache prompts = run_prompts(rows, steps, capacity);
    for (std::size_t g = 0; g < rows.size(); ++g) {
      const std::size_t t = first + g;
      // A prompt that shares nothing within this call may share with a later call's.
      if (shared_[t] == 0) {
        kept_.insert(prompt(rows[g].request), mixtures_[rows[g].request], prompts,
                     static_cast<std::int64_t>(g));
      }
    }
    run_continuations(rows, prompts);
    return first + rows.size();
  }

  // One padded pass over the group's prompt remainders; each prompt's first-token terms.
  // Returns the prompts' KV, row g in slot g.
  KvCache run_prompts(const std::vector<PromptRow>& rows, std::int64_t steps,
                      std::int64_t capacity) {
    const auto count = static_cast<std::int64_t>(rows.size());
    KvCache cache = runtime_.make_cache(count, capacity);
    at::Tensor tokens = at::zeros({count, steps}, at::kLong);
    std::vector<std::int64_t> starts, last;
    AdapterRows adapters(runtime_);
    for (std::int64_t g = 0; g < count; ++g) {
      const PromptRow& row = rows[g];
      adapters.add(mixtures_[row.request]);
      row.hit.first->copy(row.hit.second, cache, g);
      const auto rest = prompt(row.request).subspan(static_cast<std::size_t>(row.start));
      std::copy(rest.begin(), rest.end(), tokens.data_ptr<std::int64_t>() + g * steps);
      starts.push_back(row.start);
      last.push_back(g * steps + static_cast<std::int64_t>(rest.size()) - 1);
    }
    const at::Tensor hidden = runtime_.forward(cache, tokens, 0, starts, adapters.rows());
    const at::Tensor logits =
        runtime_
            .logits(hidden.view({count * steps, config_.hidden_size})
                        .index_select(0, at::tensor(last, at::kLong).to(hidden.device())))
            .contiguous();
    const std::int64_t vocab = config_.vocab_size;
    const auto first_terms = [&](std::int64_t g) {
      const std::span<const float> row(logits.data_ptr<float>() + g * vocab,
                                       static_cast<std::size_t>(vocab));
      const double normalizer = log_normalizer(row, runtime_.cpu_kernels());
      const TokenScoreRequest& request = requests_[rows[g].request];
      std::vector<double>& scores = scores_[rows[g].request];
      for (std::size_t c = 0; c < request.continuations.size(); ++c) {
        scores[c] =
            static_cast<double>(row[static_cast<std::size_t>(request.continuations[c][0])]) -
            normalizer;
      }
    };
    if (count == 1) {
      first_terms(0);
    } else {
      parallel_rows(runtime_, count, first_terms);
    }
    return cache;
  }

  // Every continuation token but the last is fed, each row starting right after its prompt;
  // shorter rows are padded at their end, where causality keeps the padding unseen.
  void run_continuations(const std::vector<PromptRow>& rows, const KvCache& prompts) {
    // Passes: runs of continuations (in order) within kMaxRows rows, kContinuationPositions
    // fed positions and the context.
    struct Pass {
      std::vector<ContinuationRow> rows;
      std::int64_t fed = 0, longest_prompt = 0;
    };
    std::vector<Pass> passes;
    Pass pass;
    std::int64_t slots = 0, capacity = 0;
    const auto close = [&] {
      if (pass.rows.empty()) return;
      slots = std::max(slots, static_cast<std::int64_t>(pass.rows.size()));
      capacity = std::max(capacity, pass.longest_prompt + pass.fed);
      passes.push_back(std::exchange(pass, {}));
    };
    for (std::size_t g = 0; g < rows.size(); ++g) {
      const TokenScoreRequest& request = requests_[rows[g].request];
      const auto p = static_cast<std::int64_t>(request.prompt.size());
      for (std::size_t c = 0; c < request.continuations.size(); ++c) {
        const auto fed = static_cast<std::int64_t>(request.continuations[c].size()) - 1;
        if (fed == 0) continue;
        const std::int64_t joined_fed = std::max(pass.fed, fed);
        const auto count = static_cast<std::int64_t>(pass.rows.size()) + 1;
        if (!pass.rows.empty() &&
            (count > kMaxRows || count * joined_fed > kContinuationPositions ||
             std::max(pass.longest_prompt, p) + joined_fed > config_.max_position_embeddings)) {
          close();
        }
        pass.fed = std::max(pass.fed, fed);
        pass.longest_prompt = std::max(pass.longest_prompt, p);
        pass.rows.push_back({g, c});
      }
    }
    close();
    if (passes.empty()) return;
    KvCache cache = runtime_.make_cache(slots, capacity);
    for (const Pass& run : passes) run_pass(rows, prompts, run.rows, run.fed, cache);
  }

  void run_pass(const std::vector<PromptRow>& prompt_rows, const KvCache& prompts,
                const std::vector<ContinuationRow>& rows, std::int64_t fed, KvCache& cache) {
    const std::int64_t vocab = config_.vocab_size;
    const auto count = static_cast<std::int64_t>(rows.size());
    at::Tensor tokens = at::zeros({count, fed}, at::kLong);
    std::vector<std::int64_t> starts;
    const auto continuation = [&](std::int64_t r) -> const std::vector<std::int32_t>& {
      const ContinuationRow& row = rows[static_cast<std::size_t>(r)];
      return requests_[prompt_rows[row.group_row].request].continuations[row.continuation];
    };
    AdapterRows adapters(runtime_);
    for (std::int64_t r = 0; r < count; ++r) {
      const ContinuationRow& row = rows[r];
      adapters.add(mixtures_[prompt_rows[row.group_row].request]);
      const auto p = static_cast<std::int64_t>(prompt(prompt_rows[row.group_row].request).size());
      runtime_.copy_slot(prompts, static_cast<std::int64_t>(row.group_row), cache, r, p);
      const auto& c = continuation(r);
      std::copy(c.begin(), c.end() - 1, tokens.data_ptr<std::int64_t>() + r * fed);
      starts.push_back(p);
    }
    const at::Tensor hidden = runtime_.forward(cache, tokens, 0, starts, adapters.rows())
                                  .reshape({count * fed, config_.hidden_size});
    // Fed position j of row r predicts token j + 1 of its continuation.
    std::vector<double> predicted(static_cast<std::size_t>(count * fed), 0.0);
    for (std::int64_t first = 0; first < count * fed; first += kLogitRows) {
      const std::int64_t n = std::min(kLogitRows, count * fed - first);
      const at::Tensor logits = runtime_.logits(hidden.narrow(0, first, n)).contiguous();
      const float* data = logits.data_ptr<float>();
      parallel_rows(runtime_, n, [&](std::int64_t i) {
        const std::int64_t index = first + i, r = index / fed, j = index % fed;
        const auto& c = continuation(r);
        if (j + 1 >= static_cast<std::int64_t>(c.size())) return;  // padding
        const std::span<const float> values(data + i * vocab, static_cast<std::size_t>(vocab));
        predicted[static_cast<std::size_t>(index)] =
            static_cast<double>(values[static_cast<std::size_t>(c[j + 1])]) -
            log_normalizer(values, runtime_.cpu_kernels());
      });
    }
    for (std::int64_t r = 0; r < count; ++r) {
      const ContinuationRow& row = rows[r];
      double& score = scores_[prompt_rows[row.group_row].request][row.continuation];
      const auto& c = continuation(r);
      for (std::size_t t = 1; t < c.size(); ++t) {
        score += predicted[static_cast<std::size_t>(r * fed) + t - 1];
      }
    }
  }

  const LlamaRuntime& runtime_;
  const LlamaConfig& config_;
  std::span<const TokenScoreRequest> requests_;
  PrefixCache& kept_;
  PrefixCache own_;  // shared prefixes the kept cache had no room for
  PrefixSources sources_;
  std::vector<LoraMixture> mixtures_;  // per request, resolved (resolved_mixture)
  std::vector<std::vector<double>> scores_;
  std::vector<std::size_t> pending_;  // requests with continuations, in order
  std::vector<std::size_t> shared_;   // per pending_ entry: the prefix it shares in the call
  std::int64_t bytes_per_position_ = 0;
};

}  // namespace

std::vector<std::vector<double>> score_requests(const LlamaRuntime& runtime,
                                                std::span<const TokenScoreRequest> requests,
                                                PrefixCache& kept) {
  return Scorer(runtime, requests, kept).run();
}

}  // namespace qdgen::inference
