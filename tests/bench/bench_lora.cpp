// LoRA mixtures per row (issue 13) on random weights of TinyStories shapes, batch 32, 8 random
// adapters of rank 8 on all seven projections: decode and prefill tokens/s for (a) the base,
// (b) one adapter, (c) 32 rows with the same mixture of the 8, (d) 32 rows each with its own
// mixture of the 8, (e) the merged model, (f) as (d) with a weight per layer; the ratios the issue
// targets, and the FLOPs per token of each case's matrix products (attention excluded), so the
// ratios can be read against them. Usage: bench_lora [15m|110m|all] [THREADS]   (default: all, 2
// threads) QDGEN_CPU_KERNELS=avx512|avx2|portable picks the CPU kernel set (default: the widest).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/model.hpp"
#include "random_llama.hpp"
#include "random_lora.hpp"

namespace {

using namespace qdgen::inference;

struct Shape {
  const char* name;
  std::int64_t dim, hidden, layers, heads, vocab, seq_len;
  int decode_tokens;            // generated per request
  std::int64_t prefill_tokens;  // prompt tokens per request in the prefill case
};

constexpr int kBatch = 32, kAdapters = 8, kRank = 8;

LlamaConfig config_of(const Shape& s) {
  LlamaConfig c;
  c.vocab_size = s.vocab;
  c.hidden_size = s.dim;
  c.intermediate_size = s.hidden;
  c.num_hidden_layers = s.layers;
  c.num_attention_heads = c.num_key_value_heads = s.heads;
  c.head_dim = s.dim / s.heads;
  c.max_position_embeddings = s.seq_len;
  c.tie_word_embeddings = true;
  c.bos_token_id = 1;
  c.eos_token_ids = {1};
  return c;
}

ModelOptions options_with(std::vector<LoraAdapter> adapters, int threads) {
  ModelOptions options;
  options.device = "cpu";
  options.threads = threads;
  const char* kernels = std::getenv("QDGEN_CPU_KERNELS");
  if (kernels != nullptr && *kernels != '\0') options.cpu_kernels = kernels;
  options.prefix_cache_bytes = 0;  // every prefill computed
  options.adapters = std::move(adapters);
  return options;
}

// Requests of `prompt_length` distinct tokens each, mixture i for row i.
std::vector<TokenRequest> requests_of(const Shape& s, std::int64_t prompt_length, int max_tokens,
                                      const std::vector<LoraMixture>& mixtures) {
  std::vector<TokenRequest> requests(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    requests[i].prompt.push_back(1);
    for (std::int64_t t = 1; t < prompt_length; ++t) {
      requests[i].prompt.push_back(static_cast<std::int32_t>(2 + (i * 997 + t * 31) % 31000));
    }
    requests[i].max_tokens = max_tokens;
    requests[i].sampling.temperature = 0;
    requests[i].stop_at_eos = false;
    requests[i].lora = mixtures[static_cast<std::size_t>(i)];
  }
  static_cast<void>(s);
  return requests;
}

struct Rates {
  double decode = 0, prefill = 0;
};

// One run each: decode (4-token prompts, decode_tokens each) and prefill (prompts of
// prefill_tokens, one token generated); keeps the better rates in `best`.
void measure(LlamaModel& model, const Shape& s, const std::vector<LoraMixture>& mixtures,
             Rates& best) {
  GenerationOptions options;
  options.max_batch = kBatch;
  GenerationStats decode;
  model.generate(requests_of(s, 4, s.decode_tokens, mixtures), options, &decode);
  best.decode =
      std::max(best.decode, static_cast<double>(decode.generated_tokens) / decode.seconds);
  GenerationStats prefill;
  model.generate(requests_of(s, s.prefill_tokens, 1, mixtures), options, &prefill);
  best.prefill =
      std::max(best.prefill, static_cast<double>(prefill.prompt_tokens) / prefill.seconds);
}

void bench(const Shape& s, int threads) {
  const LlamaConfig c = config_of(s);
  const auto base_tensors = qdgen::testing::random_llama_tensors(c, 1);
  std::vector<LoraAdapter> adapters;
  for (int i = 0; i < kAdapters; ++i) {
    adapters.push_back(qdgen::testing::random_lora_adapter(
        c, "expert" + std::to_string(i), qdgen::testing::all_lora_targets(), kRank, 16.0,
        100 + static_cast<std::uint64_t>(i)));
  }
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> weight(-1.0, 1.0);
  LoraMixture shared;
  std::vector<double> shared_weights;
  for (const LoraAdapter& a : adapters) {
    shared_weights.push_back(weight(random));
    shared.adapters.emplace_back(a.name, shared_weights.back());
  }
  std::vector<LoraMixture> own(kBatch);
  for (LoraMixture& m : own) {
    for (const LoraAdapter& a : adapters) m.adapters.emplace_back(a.name, weight(random));
  }
  // (f): as (d), each adapter with a weight per layer.
  std::vector<LoraMixture> layered(kBatch);
  for (LoraMixture& m : layered) {
    for (const LoraAdapter& a : adapters) {
      std::vector<double> weights;
      for (std::int64_t l = 0; l < s.layers; ++l) weights.push_back(weight(random));
      m.layer_weights.emplace_back(a.name, std::move(weights));
    }
  }
  const std::vector<LoraMixture> none(kBatch), one(kBatch, LoraMixture{{{"expert0", 1.0}}});
  const std::vector<LoraMixture> same(kBatch, shared);

  // FLOPs per token of the matrix products: the base's projections and head, and each
  // adapter's A and B on every projection (2 r (in + out) per projection).
  const double d = static_cast<double>(s.dim), f = static_cast<double>(s.hidden);
  const double base_flops = 2.0 * (static_cast<double>(s.layers) * (4 * d * d + 3 * d * f) +
                                   static_cast<double>(s.vocab) * d);
  const double adapter_flops =
      2.0 * kRank * static_cast<double>(s.layers) * (4 * (d + d) + 2 * (d + f) + (f + d));

  std::printf(
      "%s (d %ld, ffn %ld, %ld layers), batch %d, %d adapters r=%d on all 7 projections, "
      "%d thread(s)\n",
      s.name, s.dim, s.hidden, s.layers, kBatch, kAdapters, kRank, threads);
  std::printf("  %-34s %12s %12s %14s\n", "case", "decode tok/s", "prefill tok/s", "MFLOP/token");
  struct Row {
    const char* name;
    LlamaModel* model;
    const std::vector<LoraMixture>* mixtures;
    double flops;
    Rates rates;
  };
  std::vector<OwnedTensor> merged = base_tensors;
  std::vector<const LoraAdapter*> pointers;
  for (const LoraAdapter& a : adapters) pointers.push_back(&a);
  merge_lora_adapters(c, merged, pointers, shared_weights);
  const auto base = LlamaModel::from_tensors(c, base_tensors, options_with({}, threads));
  const auto single =
      LlamaModel::from_tensors(c, base_tensors, options_with({adapters[0]}, threads));
  const auto eight = LlamaModel::from_tensors(c, base_tensors, options_with(adapters, threads));
  const auto merged_model = LlamaModel::from_tensors(c, merged, options_with({}, threads));
  const double mixed_flops = base_flops + kAdapters * adapter_flops;
  std::vector<Row> rows = {
      {"(a) base", base.get(), &none, base_flops, {}},
      {"(b) one adapter", single.get(), &one, base_flops + adapter_flops, {}},
      {"(c) 32 rows, the same mixture of 8", eight.get(), &same, mixed_flops, {}},
      {"(d) 32 rows, each its own mixture", eight.get(), &own, mixed_flops, {}},
      {"(e) merged", merged_model.get(), &none, base_flops, {}},
      {"(f) as (d), a weight per layer", eight.get(), &layered, mixed_flops, {}}};
  // The cases take turns, best of three each, so that a change in the machine's load falls on
  // all of them alike.
  for (int repeat = 0; repeat < 3; ++repeat) {
    for (Row& r : rows) measure(*r.model, s, *r.mixtures, r.rates);
  }
  for (const Row& r : rows) {
    std::printf("  %-34s %12.1f %12.1f %14.2f\n", r.name, r.rates.decode, r.rates.prefill,
                r.flops / 1e6);
  }
  const auto step_ratio = [&](int x, int y, bool decode) {
    const Rates& a = rows[static_cast<std::size_t>(x)].rates;
    const Rates& b = rows[static_cast<std::size_t>(y)].rates;
    return decode ? b.decode / a.decode : b.prefill / a.prefill;  // time(x) / time(y)
  };
  std::printf(
      "  step time ratios (decode / prefill): d/c %.3f / %.3f (target <= 1.05), d/b "
      "%.3f / %.3f (<= 1.3), b/a %.3f / %.3f (<= 1.15), e/a %.3f / %.3f\n",
      step_ratio(3, 2, true), step_ratio(3, 2, false), step_ratio(3, 1, true),
      step_ratio(3, 1, false), step_ratio(1, 0, true), step_ratio(1, 0, false),
      step_ratio(4, 0, true), step_ratio(4, 0, false));
  std::printf("  per-layer weights: f/d %.3f / %.3f\n", step_ratio(5, 3, true),
              step_ratio(5, 3, false));
  std::printf("  FLOP ratios: b/a %.3f, c/a = d/a %.3f\n",
              (base_flops + adapter_flops) / base_flops,
              (base_flops + kAdapters * adapter_flops) / base_flops);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  const int threads = argc > 2 ? std::stoi(argv[2]) : 2;
  const Shape small{"TinyStories-15M", 288, 768, 6, 6, 32000, 256, 64, 64};
  const Shape large{"TinyStories-110M", 768, 2048, 12, 12, 32000, 1024, 16, 64};
  std::printf("bench_lora: random weights, fp32, greedy; tokens/s = tokens / wall time\n");
  for (const auto& [key, shape] : {std::pair{"15m", small}, std::pair{"110m", large}}) {
    if (which == "all" || which == key) bench(shape, threads);
  }
  return 0;
}
