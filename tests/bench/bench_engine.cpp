// Evaluations per second of the sphere-100D MAP-Elites config (15 Gaussian emitters x 36,
// 100x100 grid): in memory with 1 and 2 threads, and with a run store keeping only the
// added candidates. Ratios are against the 1-thread in-memory run of this process.
// Usage: bench_engine [ITERATIONS [CONFIG]]   (defaults: 1000, and the shipped config
// experiments/sphere-100d-map-elites.json relative to the working directory)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "qdgen/engine/run.hpp"

using namespace qdgen::engine;

namespace {

double evaluations_per_s(const ExperimentConfig& config, const RunOverrides& overrides) {
  std::atomic<bool> stop{false};
  const RunSummary s = run_experiment(config, overrides, stop, nullptr);
  return s.progress.evaluations_per_s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t iterations = argc > 1 ? std::stoll(argv[1]) : 1000;
  const ExperimentConfig config =
      load_experiment_config(argc > 2 ? argv[2] : "experiments/sphere-100d-map-elites.json");

  RunOverrides memory;
  memory.iterations = iterations;
  memory.in_memory = true;
  memory.threads = 1;
  const double base = evaluations_per_s(config, memory);
  std::printf("sphere-100d MAP-Elites, %lld iterations x 540\n",
              static_cast<long long>(iterations));
  std::printf("  in memory, 1 thread : %10.0f evals/s  (baseline)\n", base);
  memory.threads = 2;
  const double two = evaluations_per_s(config, memory);
  std::printf("  in memory, 2 threads: %10.0f evals/s  (x%.2f)\n", two, two / base);

  const auto path = std::filesystem::temp_directory_path() / "qdgen_bench_engine.sqlite";
  std::filesystem::remove(path);
  RunOverrides stored;
  stored.iterations = iterations;
  stored.out = path;
  stored.threads = 2;
  const double store = evaluations_per_s(config, stored);
  std::printf("  store (keep added), 2 threads: %10.0f evals/s  (x%.2f)\n", store, store / base);
  std::printf(
      "  reference figures (not measured here): pyribs ~600000, fast_map-elites ~2000000\n");
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return 0;
}
