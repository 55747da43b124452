// bench_training: training throughput of qdgen's trainer (libtorch autograd, fused q|k|v and
// gate|up products, custom RMSNorm / SiLU-gate / rotary nodes, one-pass AdamW) against
// PyTorch eager on the same shape (training_torch.py, Debian's python3-torch: the same
// libtorch 1.13), with the FLOP utilisation 6 * parameters * tokens/s against the fp32
// matrix-product peak measured in the same run.
//
// Usage: bench_training [small|110m|all] [THREADS] [STEPS]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "adamw.hpp"
#include "llama_trainable.hpp"
#include "training_runtime.hpp"

namespace {

using qdgen::inference::LlamaConfig;
using namespace qdgen::inference::training;
using Clock = std::chrono::steady_clock;

struct Shape {
  std::string name;
  std::int64_t hidden, layers, heads, kv_heads, ffn, vocab, context, batch;
  bool tied;
  int warmup_steps;
};

LlamaConfig config_of(const Shape& s) {
  LlamaConfig c;
  c.vocab_size = s.vocab;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.ffn;
  c.num_hidden_layers = s.layers;
  c.num_attention_heads = s.heads;
  c.num_key_value_heads = s.kv_heads;
  c.head_dim = s.hidden / s.heads;
  c.max_position_embeddings = s.context;
  c.tie_word_embeddings = s.tied;
  return c;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// fp32 matrix-product peak: the best of several 2048^3 products.
double matmul_peak_flops() {
  const std::int64_t n = 2048;
  const at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
  at::Tensor c = at::mm(a, b);
  double best = 1e30;
  for (int i = 0; i < 6; ++i) {
    const auto start = Clock::now();
    at::mm_out(c, a, b);
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * static_cast<double>(n * n * n) / best;
}

// CPU time of the whole process: on a loaded machine, at one thread, a steadier measure of
// the work a step takes than wall time.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Run {
  std::vector<double> step_seconds, step_cpu_seconds;
  std::int64_t parameters = 0;
  double loss = 0;
};

Run run_qdgen(const Shape& s, int steps) {
  const LlamaConfig config = config_of(s);
  LlamaTrainable model(config);
  model.initialise(0.02, 1);
  model.set_requires_grad(true);
  AdamW optimizer(model.parameters(), {0.9, 0.95, 1e-8, 0.1, 1.0});
  std::mt19937_64 rng(1);
  at::Tensor tokens = at::empty({s.batch, s.context + 1}, at::kLong);
  Run run;
  run.parameters = model.parameter_count();
  for (int step = 0; step < s.warmup_steps + steps; ++step) {
    std::int64_t* t = tokens.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < tokens.numel(); ++i)
      t[i] = static_cast<std::int64_t>(rng() % s.vocab);
    const auto start = Clock::now();
    const double cpu_start = process_cpu_seconds();
    for (const TrainableParameter& p : model.parameters()) {
      at::Tensor tensor = p.tensor;
      tensor.mutable_grad() = at::Tensor();
    }
    const at::Tensor inputs = tokens.narrow(1, 0, s.context).contiguous();
    const at::Tensor targets = tokens.narrow(1, 1, s.context).contiguous();
    const at::Tensor loss = model.loss(inputs, targets);
    loss.backward();
    optimizer.step(1e-3);
    run.loss = loss.item<double>();
    if (step >= s.warmup_steps) {
      run.step_seconds.push_back(seconds_since(start));
      run.step_cpu_seconds.push_back(process_cpu_seconds() - cpu_start);
    }
  }
  return run;
}

// PyTorch eager through training_torch.py with `aten_threads` for torch.set_num_threads
// and `threads` for OpenBLAS; empty when python3-torch is missing.
std::optional<Run> run_pytorch(const Shape& s, int steps, int threads, int aten_threads) {
  const std::string python = "/usr/bin/python3";
  if (std::system((python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0)
    return std::nullopt;
  const auto folder = std::filesystem::temp_directory_path();
  const auto shape_file = folder / ("bench_training_shape_" + std::to_string(getpid()) + ".json");
  const auto result_file = folder / ("bench_training_torch_" + std::to_string(getpid()) + ".json");
  std::ofstream(shape_file) << nlohmann::json{
      {"hidden", s.hidden},
      {"layers", s.layers},
      {"heads", s.heads},
      {"kv_heads", s.kv_heads},
      {"ffn", s.ffn},
      {"vocab", s.vocab},
      {"context", s.context},
      {"batch", s.batch},
      {"tied", s.tied},
      {"threads", threads},
      {"warmup_steps", s.warmup_steps},
      {"steps", steps}}.dump();
  // OpenBLAS's own pool follows the same thread count as ours (configure_training_runtime).
  const std::string command = "OPENBLAS_NUM_THREADS=" + std::to_string(threads) + " " + python +
                              " " QDGEN_SOURCE_DIR "/tests/bench/training_torch.py " +
                              shape_file.string() + " > " + result_file.string();
  const int status = std::system(command.c_str());
  std::filesystem::remove(shape_file);
  if (status != 0) {
    std::printf("  (PyTorch eager failed: %s)\n", command.c_str());
    return std::nullopt;
  }
  const auto result = nlohmann::json::parse(std::ifstream(result_file));
  std::filesystem::remove(result_file);
  Run run;
  run.step_seconds = result["step_seconds"].get<std::vector<double>>();
  run.step_cpu_seconds = result["step_cpu_seconds"].get<std::vector<double>>();
  run.parameters = result["parameters"].get<std::int64_t>();
  run.loss = result["loss"].get<double>();
  return run;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "small";
  const int threads = argc > 2
                          ? std::atoi(argv[2])
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int requested_steps = argc > 3 ? std::atoi(argv[3]) : 0;
  const TrainingRuntime runtime(threads);

  const std::vector<Shape> shapes = {
      {"small (default-model-like)", 256, 4, 4, 4, 768, 4096, 256, 8, true, 2},
      {"110m (TinyStories-110M)", 768, 12, 12, 12, 2048, 32000, 1024, 1, false, 1}};
  std::printf("bench_training: %d threads, load average %s\n", threads, load_average().c_str());
  const double peak = matmul_peak_flops();
  std::printf("fp32 matmul peak (2048^3 at::mm, best of 6): %.1f GFLOP/s\n", peak / 1e9);
  for (const Shape& s : shapes) {
    const bool small = s.name.starts_with("small");
    if (!(which == "all" || (which == "small" && small) || (which == "110m" && !small))) continue;
    const int steps = requested_steps > 0 ? requested_steps : (small ? 10 : 3);
    std::printf(
        "\n%s: hidden %lld, %lld layers, %lld heads, ffn %lld, vocab %lld, context %lld, "
        "batch %lld, %s head\n",
        s.name.c_str(), static_cast<long long>(s.hidden), static_cast<long long>(s.layers),
        static_cast<long long>(s.heads), static_cast<long long>(s.ffn),
        static_cast<long long>(s.vocab), static_cast<long long>(s.context),
        static_cast<long long>(s.batch), s.tied ? "tied" : "untied");
    const double tokens = static_cast<double>(s.batch * s.context);
    const Run ours = run_qdgen(s, steps);
    const double ours_rate = tokens / median(ours.step_seconds);
    const double utilisation = 6.0 * static_cast<double>(ours.parameters) * ours_rate / peak;
    std::printf(
        "  %-22s %9.0f tokens/s  (median of %d steps, %.3f s/step; %lld "
        "parameters; 6ND FLOP utilisation %.1f%%; loss %.3f)\n",
        "qdgen", ours_rate, steps, median(ours.step_seconds),
        static_cast<long long>(ours.parameters), 100.0 * utilisation, ours.loss);
    // PyTorch as users run it (torch.set_num_threads(N)), and with qdgen's thread settings
    // (ATen's pool at one thread, OpenBLAS at N), which separates the two sources of the gap.
    const std::vector<std::pair<const char*, int>> eager_runs = {{"PyTorch eager", threads},
                                                                 {"eager, qdgen's threads", 1}};
    for (std::size_t run = 0; run < (threads > 1 ? eager_runs.size() : 1); ++run) {
      const auto& [label, aten_threads] = eager_runs[run];
      const auto eager = run_pytorch(s, steps, threads, aten_threads);
      if (!eager) {
        std::printf(
            "  (PyTorch eager not measured: apt-get install --no-install-recommends "
            "python3-torch)\n");
        break;
      }
      const double eager_rate = tokens / median(eager->step_seconds);
      std::printf(
          "  %-22s %9.0f tokens/s  (%.3f s/step; %lld parameters; utilisation %.1f%%; "
          "loss %.3f)\n",
          label, eager_rate, median(eager->step_seconds), static_cast<long long>(eager->parameters),
          100.0 * 6.0 * static_cast<double>(eager->parameters) * eager_rate / peak, eager->loss);
      std::printf(
          "    qdgen / it: %.2fx in wall time; %.2fx in CPU time per step (%.3f s / %.3f "
          "s)\n",
          ours_rate / eager_rate, median(eager->step_cpu_seconds) / median(ours.step_cpu_seconds),
          median(ours.step_cpu_seconds), median(eager->step_cpu_seconds));
    }
  }
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  return 0;
}
