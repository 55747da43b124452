// Generation speed of the embedded Llama model on random weights of TinyStories shapes:
// tokens/s at batch 1, 8, 32, 64 (greedy, every request to its full length), prefill
// tokens/s, score() throughput, and 1 vs 2 threads. Baseline, measured in this process on the
// same weights: the run.c-equivalent fp32 reference (tests/common/llama2c_reference.hpp)
// compiled with -O3 -fopenmp, at batch 1.
// Usage: bench_generation [15m|110m|all] [BATCH|attention [THREADS]]   (default: all; with
// BATCH, only that batch size's decoding, three times, on THREADS threads (2): a short run to
// profile; with "attention", only decode attention against the memory bandwidth).
// QDGEN_CPU_KERNELS=avx512|avx2|portable picks the CPU kernel set (default: the widest).

#include <ATen/ATen.h>
#include <omp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"
#include "decode_attention.hpp"
#include "llama2c_reference.hpp"
#include "qdgen/inference/model.hpp"
#include "random_llama.hpp"

namespace {

using namespace qdgen::inference;
using Clock = std::chrono::steady_clock;

struct Shape {
  const char* name;
  std::int64_t dim, hidden, layers, heads, vocab, seq_len;
  int decode_tokens;  // generated per request
  std::int64_t prefill_tokens;
};

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

const char* kernels_asked() {
  const char* asked = std::getenv("QDGEN_CPU_KERNELS");
  return asked != nullptr && *asked != '\0' ? asked : "auto";
}

ModelOptions cpu_options(int threads) {
  ModelOptions options{"cpu", threads};
  options.cpu_kernels = kernels_asked();
  return options;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Decoding of `batch` requests with distinct 4-token prompts, none stopping early; greedy
// unless told otherwise.
double decode_tokens_per_second(LlamaModel& model, const Shape& s, int batch,
                                const SamplingSettings& sampling = {0.0, 0, 1.0, 0}) {
  std::vector<TokenRequest> requests(static_cast<std::size_t>(batch));
  for (int i = 0; i < batch; ++i) {
    requests[i].prompt = {1, 100 + i, 200 + 3 * i, 300 + 7 * i};
    requests[i].max_tokens = s.decode_tokens;
    requests[i].sampling = sampling;
    requests[i].sampling.seed += static_cast<std::uint64_t>(i);
    requests[i].stop_at_eos = false;
  }
  GenerationOptions options;
  options.max_batch = batch;
  GenerationStats stats;
  model.generate(requests, options, &stats);
  return static_cast<double>(stats.generated_tokens) / stats.seconds;
}

double reference_tokens_per_second(qdgen::testing::Llama2cReference& reference, const Shape& s) {
  const auto start = Clock::now();
  const auto tokens = reference.greedy({1, 100, 200, 300}, s.decode_tokens);
  return static_cast<double>(tokens.size() + 3) / seconds_since(start);
}

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Bytes per second that the pool's threads read from a 256 MiB buffer (far past the caches):
// the ceiling of any step that streams the KV cache.
double memory_read_bandwidth(CpuThreadPool& pool) {
  const std::int64_t words = std::int64_t{32} << 20, chunks = 64;
  std::vector<std::uint64_t> buffer(static_cast<std::size_t>(words), 1);
  std::vector<std::uint64_t> sums(chunks);
  double best = 1e9;
  for (int repeat = 0; repeat < 5; ++repeat) {
    const auto start = Clock::now();
    pool.run(chunks, [&](std::int64_t c) {
      std::uint64_t sum = 0;
      const std::uint64_t* begin = buffer.data() + c * (words / chunks);
      for (std::int64_t i = 0; i < words / chunks; ++i) sum ^= begin[i];
      sums[static_cast<std::size_t>(c)] = sum;
    });
    best = std::min(best, seconds_since(start));
  }
  return static_cast<double>(words) * 8.0 / best;
}

// decode_attention alone, as in a batch-32 decode step at the benchmark's mean context: all
// layers, random caches laid out as generate() allocates them (capacity = prompt + new
// tokens). Prints seconds per step and the KV bytes read per second against
// the memory read bandwidth measured here, which bounds it (32 rows of cache do not fit).
void bench_decode_attention(const Shape& s, int threads) {
  const std::int64_t rows = 32, hd = s.dim / s.heads, length = 4 + s.decode_tokens / 2;
  const std::int64_t capacity = 4 + s.decode_tokens;
  CpuThreadPool pool(threads);
  const double bandwidth = memory_read_bandwidth(pool);
  const CpuKernels kernels = choose_cpu_kernels(kernels_asked());
  std::vector<at::Tensor> keys, values;
  for (std::int64_t l = 0; l < s.layers; ++l) {
    keys.push_back(at::randn({rows, s.heads, hd, capacity}));
    values.push_back(at::randn({rows, s.heads, capacity, hd}));
  }
  const at::Tensor q = at::randn({rows, s.dim});
  const std::vector<std::int64_t> lengths(rows, length);
  std::vector<std::int64_t> slots(rows);
  for (std::int64_t r = 0; r < rows; ++r) slots[r] = r;
  double best = 1e9;
  for (int repeat = 0; repeat < 5; ++repeat) {
    const auto start = Clock::now();
    for (int step = 0; step < 20; ++step)
      for (std::int64_t l = 0; l < s.layers; ++l)
        decode_attention(q, keys[l], values[l], slots, lengths, s.heads, 0.125, kernels, pool);
    best = std::min(best, seconds_since(start) / 20);
  }
  const double bytes = 2.0 * static_cast<double>(rows * s.layers * s.dim * length) * 4;
  std::printf(
      "decode attention alone, batch 32, context %ld, %d thread(s): %.2f ms per step, KV read at "
      "%.1f GB/s = %.2fx the memory read bandwidth measured here (%.1f GB/s)\n",
      length, threads, best * 1e3, bytes / best / 1e9, bytes / best / bandwidth, bandwidth / 1e9);
}

// Tokens per wall second and per CPU second of the process: on a shared machine the second
// does not count the time other processes take (but does count idle workers' spinning).
void profile_batch(const Shape& s, int batch, int threads) {
  const LlamaConfig config = config_of(s);
  auto model = LlamaModel::from_tensors(config, qdgen::testing::random_llama_tensors(config, 1),
                                        cpu_options(threads));
  decode_tokens_per_second(*model, s, batch);
  for (int repeat = 0; repeat < 3; ++repeat) {
    const double cpu = process_cpu_seconds();
    const auto start = Clock::now();
    const double rate = decode_tokens_per_second(*model, s, batch);
    const double tokens = rate * seconds_since(start);
    std::printf("%s batch %d, %d thread(s): %8.1f tokens/s, %8.1f tokens per CPU second\n", s.name,
                batch, threads, rate, tokens / (process_cpu_seconds() - cpu));
  }
}

// Seconds of two score() calls; the prompt's KV kept from the first to the second or not.
std::array<double, 2> score_twice(LlamaModel& model, const std::vector<std::int32_t>& prompt,
                                  const std::vector<std::vector<std::int32_t>>& continuations,
                                  bool keep_prompt) {
  std::array<double, 2> seconds{};
  model.clear_prefix_cache();
  for (double& elapsed : seconds) {
    if (!keep_prompt) model.clear_prefix_cache();
    const auto start = Clock::now();
    model.score(prompt, continuations);
    elapsed = seconds_since(start);
  }
  return seconds;
}

// A judge's iteration: 64 prompts (one 48-token instruction, a 16-token candidate each) with
// two one-token answers, scored prompt by prompt or in one call, from an empty prefix cache
// each time. Best of three.
void bench_judge_iteration(LlamaModel& model, const Shape& s) {
  std::vector<std::int32_t> instruction;
  for (int t = 0; t < 48; ++t) instruction.push_back(static_cast<std::int32_t>(3 + t * 11 % 900));
  std::vector<TokenScoreRequest> requests(64);
  for (int i = 0; i < 64; ++i) {
    requests[i].prompt = instruction;
    for (int t = 0; t < 16; ++t)
      requests[i].prompt.push_back(static_cast<std::int32_t>(1000 + (i * 16 + t) * 7 % 20000));
    requests[i].continuations = {{5 + i}, {900 + i}};
  }
  double one_by_one = 1e9, batched = 1e9;
  for (int repeat = 0; repeat < 3; ++repeat) {
    model.clear_prefix_cache();
    auto start = Clock::now();
    for (const auto& r : requests) model.score(r.prompt, r.continuations);
    one_by_one = std::min(one_by_one, seconds_since(start));
    model.clear_prefix_cache();
    start = Clock::now();
    model.score(requests);
    batched = std::min(batched, seconds_since(start));
  }
  std::printf(
      "score, a judge's iteration (64 prompts = 48-token instruction + 16-token candidate, 2 "
      "one-token answers each): prompt by prompt %7.1f ms, one batched call %7.1f ms (%.2fx)\n",
      one_by_one * 1e3, batched * 1e3, one_by_one / batched);
}

void bench_shape(const Shape& s) {
  std::printf("\n== %s shape: dim %ld, %ld layers, %ld heads, hidden %ld, vocab %ld, seq %ld ==\n",
              s.name, s.dim, s.layers, s.heads, s.hidden, s.vocab, s.seq_len);
  const LlamaConfig config = config_of(s);
  const auto tensors = qdgen::testing::random_llama_tensors(config, 1);
  const auto bin =
      std::filesystem::temp_directory_path() / (std::string("bench_") + s.name + ".bin");
  write_llama2c(bin, config, tensors);

  omp_set_num_threads(2);
  qdgen::testing::Llama2cReference reference(bin);
  reference_tokens_per_second(reference, s);  // warm-up: page in the weights
  const double baseline = reference_tokens_per_second(reference, s);
  std::printf("run.c-equivalent (-O3 -fopenmp, 2 threads), batch 1: %8.1f tokens/s\n", baseline);
  omp_set_num_threads(1);
  const double baseline_one_thread = reference_tokens_per_second(reference, s);
  std::printf("run.c-equivalent (-O3, 1 thread),          batch 1: %8.1f tokens/s\n",
              baseline_one_thread);

  auto model = LlamaModel::from_tensors(config, tensors, cpu_options(2));
  std::printf("qdgen on %s\n", model->device_name().c_str());
  decode_tokens_per_second(*model, s, 1);  // warm-up
  double batch1 = 0, batch32 = 0;
  for (int batch : {1, 8, 32, 64}) {
    const double rate = decode_tokens_per_second(*model, s, batch);
    if (batch == 1) batch1 = rate;
    if (batch == 32) batch32 = rate;
    std::printf("batch %2d: %8.1f tokens/s   (%.2fx run.c batch 1, %.2fx qdgen batch 1)\n", batch,
                rate, rate / baseline, rate / batch1);
  }
  const double sampled = decode_tokens_per_second(*model, s, 32, {0.8, 0, 0.95, 7});
  std::printf("batch 32, temperature 0.8, top-p 0.95: %8.1f tokens/s (%.2fx greedy)\n", sampled,
              sampled / batch32);

  TokenRequest prefill;
  for (std::int64_t i = 0; i < s.prefill_tokens; ++i)
    prefill.prompt.push_back(static_cast<std::int32_t>(1 + i * 37 % (s.vocab - 1)));
  prefill.max_tokens = 1;
  GenerationStats stats;
  model->generate(std::span(&prefill, 1), {}, &stats);
  model->clear_prefix_cache();  // else the second pass finds the prompt's KV kept
  model->generate(std::span(&prefill, 1), {}, &stats);
  std::printf("prefill of %ld tokens: %8.1f tokens/s\n", s.prefill_tokens,
              static_cast<double>(stats.prompt_tokens) / stats.seconds);

  // A judge's use: one 64-token prompt, many short continuations.
  const std::vector<std::int32_t> prompt(prefill.prompt.begin(), prefill.prompt.begin() + 64);
  for (const int length : {1, 8}) {
    std::vector<std::vector<std::int32_t>> continuations(64);
    for (int i = 0; i < 64; ++i) {
      for (int t = 0; t < length; ++t) continuations[i].push_back(5 + (i * 13 + t * 7) % 1000);
    }
    // The prompt's KV dropped before each call: the first also allocates the cache (page
    // faults), later ones reuse its buffers.
    const auto elapsed = score_twice(*model, prompt, continuations, false);
    std::printf(
        "score: 64-token prompt, 64 continuations of %d token(s): %7.1f ms, %8.1f continuation "
        "tokens/s (first call %.1f ms)\n",
        length, elapsed[1] * 1e3, 64.0 * length / elapsed[1], elapsed[0] * 1e3);
  }

  // The judge across calls: one long prompt, 64 one-token continuations, called twice; the
  // second call finds the prompt's KV in the model's prefix cache.
  {
    const std::vector<std::int32_t> long_prompt(prefill.prompt.begin(), prefill.prompt.end() - 8);
    std::vector<std::vector<std::int32_t>> answers(64);
    for (int i = 0; i < 64; ++i) answers[i] = {5 + i * 13};
    const auto seconds = score_twice(*model, long_prompt, answers, true);
    std::printf(
        "score: %zu-token prompt, 64 one-token continuations: first call %7.1f ms, second call "
        "%7.1f ms (prompt KV kept: %.1fx)\n",
        long_prompt.size(), seconds[0] * 1e3, seconds[1] * 1e3, seconds[0] / seconds[1]);
  }

  bench_judge_iteration(*model, s);

  model.reset();
  bench_decode_attention(s, 2);
  bench_decode_attention(s, 1);
  auto single = LlamaModel::from_tensors(config, tensors, cpu_options(1));
  decode_tokens_per_second(*single, s, 1);
  const double one_thread_1 = decode_tokens_per_second(*single, s, 1);
  const double one_thread_32 = decode_tokens_per_second(*single, s, 32);
  std::printf(
      "1 thread: batch 1 %8.1f tokens/s (%.2fx run.c 1 thread), batch 32 %8.1f tokens/s"
      " (%.2fx batch 1); 2 threads gave %.2fx and %.2fx of these\n",
      one_thread_1, one_thread_1 / baseline_one_thread, one_thread_32, one_thread_32 / one_thread_1,
      batch1 / one_thread_1, batch32 / one_thread_32);
  std::filesystem::remove(bin);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "all";
  const Shape small{"TinyStories-15M", 288, 768, 6, 6, 32000, 256, 128, 256};
  const Shape large{"TinyStories-110M", 768, 2048, 12, 12, 32000, 1024, 32, 512};
  std::printf(
      "bench_generation: random weights, fp32, greedy; tokens/s = generated tokens / wall time\n");
  const bool attention_only = argc > 2 && std::string(argv[2]) == "attention";
  const int batch = argc > 2 && !attention_only ? std::stoi(argv[2]) : 0;
  const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
  for (const auto& [key, shape] : {std::pair{"15m", small}, std::pair{"110m", large}}) {
    if (which != "all" && which != key) continue;
    if (attention_only) {
      bench_decode_attention(shape, threads);
    } else if (batch > 0) {
      profile_batch(shape, batch, threads);
    } else {
      bench_shape(shape);
    }
  }
  return 0;
}
