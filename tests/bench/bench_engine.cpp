// Evaluations per second of the sphere-100D configs, and the normal sampler they lean on.
//
// 1. Standard normal draws/s: the engine's Ziggurat on xoshiro256++ against the Box-Muller
//    on mt19937_64 the engine used before (re-implemented here as the baseline).
// 2. MAP-Elites (15 Gaussian emitters x 36, 100x100 grid): in memory with 1 and 2 threads,
//    and with a run store keeping the added candidates; ratios against 1 thread in memory.
// 3. CMA-MAE (15 CMA-ES emitters x 36): in memory with 1 and 2 threads.
// Each figure is the best of REPEATS runs (the machine is shared); besides wall-clock
// evals/s it prints evals per CPU-second of the process (all threads), which load on the
// machine disturbs far less.
// Usage: bench_engine [ITERATIONS [REPEATS]]   (defaults 1000 and 3; CMA-MAE runs a tenth
// of ITERATIONS). It reads the shipped experiments/*.json from the source tree.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "qdgen/engine/random.hpp"
#include "qdgen/engine/run.hpp"

using namespace qdgen::engine;
using Clock = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Rate {
  double wall = 0.0;  // per wall-clock second
  double cpu = 0.0;   // per CPU-second of the process
};

template <typename F>
Rate best_rate(int repeats, double work, F&& run) {
  Rate best;
  for (int r = 0; r < repeats; ++r) {
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    run();
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    best.wall = std::max(best.wall, work / wall);
    best.cpu = std::max(best.cpu, work / std::max(cpu, 1e-9));
  }
  return best;
}

// The sampler the engine used before: Box-Muller on the run's mt19937_64.
void box_muller_mt(std::mt19937_64& rng, std::span<double> out) {
  auto u01 = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  for (std::size_t i = 0; i + 1 < out.size(); i += 2) {
    const double radius = std::sqrt(-2.0 * std::log(1.0 - u01()));
    const double angle = 2.0 * std::numbers::pi * u01();
    out[i] = radius * std::cos(angle);
    out[i + 1] = radius * std::sin(angle);
  }
}

double checksum = 0.0;  // keeps the sampled values observable

void bench_normals(int repeats) {
  const std::size_t n = 20'000'000;
  std::vector<double> buffer(100);
  const Rate old_rate = best_rate(repeats, double(n), [&] {
    std::mt19937_64 rng(1);
    for (std::size_t done = 0; done < n; done += buffer.size()) {
      box_muller_mt(rng, buffer);
      checksum += buffer[7];
    }
  });
  const Rate new_rate = best_rate(repeats, double(n), [&] {
    NoiseRng rng(1);
    for (std::size_t done = 0; done < n; done += buffer.size()) {
      fill_standard_normal(rng, buffer);
      checksum += buffer[7];
    }
  });
  std::printf("standard normals, 1 thread (per CPU-second)\n");
  std::printf("  Box-Muller on mt19937_64 (old): %12.0f /s  (baseline)\n", old_rate.cpu);
  std::printf("  Ziggurat on xoshiro256++      : %12.0f /s  (x%.2f)\n", new_rate.cpu,
              new_rate.cpu / old_rate.cpu);
}

Rate engine_rate(const ExperimentConfig& config, const RunOverrides& overrides, int repeats) {
  const double evaluations = double(*overrides.iterations) * [&] {
    double batch = 0;
    for (const auto& group : config.emitters)
      batch += double(group.count) * group.spec->batch_size();
    return batch;
  }();
  return best_rate(repeats, evaluations, [&] {
    if (overrides.out) {
      std::filesystem::remove(*overrides.out);
      std::filesystem::remove(overrides.out->string() + "-wal");
      std::filesystem::remove(overrides.out->string() + "-shm");
    }
    std::atomic<bool> stop{false};
    run_experiment(config, overrides, stop, nullptr);
  });
}

void print_rate(const char* label, Rate rate, Rate base) {
  std::printf("  %-30s %10.0f evals/s wall (x%.2f)   %10.0f evals/CPU-s (x%.2f)\n", label,
              rate.wall, rate.wall / base.wall, rate.cpu, rate.cpu / base.cpu);
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t iterations = argc > 1 ? std::stoll(argv[1]) : 1000;
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 3;

  bench_normals(repeats);

  const ExperimentConfig map_elites =
      load_experiment_config(QDGEN_SOURCE_DIR "/experiments/sphere-100d-map-elites.json");
  RunOverrides memory;
  memory.iterations = iterations;
  memory.in_memory = true;
  memory.threads = 1;
  std::printf("sphere-100d MAP-Elites, %lld iterations x 540, best of %d\n",
              static_cast<long long>(iterations), repeats);
  const Rate base = engine_rate(map_elites, memory, repeats);
  print_rate("in memory, 1 thread (baseline)", base, base);
  memory.threads = 2;
  print_rate("in memory, 2 threads", engine_rate(map_elites, memory, repeats), base);

  const auto path = std::filesystem::temp_directory_path() / "qdgen_bench_engine.sqlite";
  RunOverrides stored;
  stored.iterations = iterations;
  stored.out = path;
  stored.threads = 2;
  print_rate("store (keep added), 2 threads", engine_rate(map_elites, stored, repeats), base);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  std::printf(
      "  reference figures (not measured here): pyribs ~600000, fast_map-elites ~2000000\n");

  const ExperimentConfig cma_mae =
      load_experiment_config(QDGEN_SOURCE_DIR "/experiments/sphere-100d-cma-mae.json");
  RunOverrides cma;
  cma.iterations = std::max<std::int64_t>(1, iterations / 10);
  cma.in_memory = true;
  cma.threads = 1;
  std::printf("sphere-100d CMA-MAE, %lld iterations x 540, best of %d\n",
              static_cast<long long>(*cma.iterations), repeats);
  const Rate cma_base = engine_rate(cma_mae, cma, repeats);
  print_rate("in memory, 1 thread (baseline)", cma_base, cma_base);
  cma.threads = 2;
  print_rate("in memory, 2 threads", engine_rate(cma_mae, cma, repeats), cma_base);
  return checksum == 12345.678 ? 1 : 0;
}
