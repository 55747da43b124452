// A model's own CPU resources: its thread pool (an exception on a worker reaches the caller and
// the pool works on; nested and concurrent calls finish) and the choice of its kernel set.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpu_kernels.hpp"
#include "cpu_thread_pool.hpp"

namespace qdgen::inference {
namespace {

// Sum of 0 .. chunks - 1, computed chunk by chunk on the pool.
std::int64_t sum_on(CpuThreadPool& pool, std::int64_t chunks) {
  std::atomic<std::int64_t> sum{0};
  pool.run(chunks, [&](std::int64_t i) { sum += i; });
  return sum.load();
}

TEST(CpuThreadPool, RunsEveryChunkOnce) {
  CpuThreadPool pool(3);
  EXPECT_EQ(pool.threads(), 3);
  std::vector<std::atomic<int>> runs(1000);
  pool.run(1000, [&](std::int64_t i) { ++runs[static_cast<std::size_t>(i)]; });
  for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "chunk " << i;
}

TEST(CpuThreadPool, AnExceptionOnAWorkerReachesTheCallerAndThePoolWorksOn) {
  CpuThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  for (int round = 0; round < 5; ++round) {
    std::atomic<bool> worker_began{false};
    std::string message;
    try {
      pool.run(2, [&](std::int64_t) {
        if (std::this_thread::get_id() != caller) {
          worker_began = true;
          throw std::runtime_error("chunk failed on a worker");
        }
        // The caller's chunk waits for the worker to take the other one, so that the failing
        // chunk runs on the worker whichever chunk each thread claims.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!worker_began && std::chrono::steady_clock::now() < deadline)
          std::this_thread::yield();
      });
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    EXPECT_EQ(message, "chunk failed on a worker") << "round " << round;
    EXPECT_EQ(sum_on(pool, 500), 500 * 499 / 2) << "round " << round;
  }
}

TEST(CpuThreadPool, AnExceptionOnTheCallersThreadReachesItToo) {
  CpuThreadPool pool(2);
  EXPECT_THROW(pool.run(100,
                        [&](std::int64_t i) {
                          if (i == 3) throw std::out_of_range("chunk 3");
                        }),
               std::out_of_range);
  EXPECT_EQ(sum_on(pool, 100), 100 * 99 / 2);
  CpuThreadPool alone(1);
  EXPECT_THROW(alone.run(4, [](std::int64_t) { throw std::logic_error("no workers"); }),
               std::logic_error);
}

TEST(CpuThreadPool, NestedAndConcurrentCallsFinish) {
  CpuThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.run(4, [&](std::int64_t) { pool.run(4, [&](std::int64_t) { ++inner; }); });
  EXPECT_EQ(inner.load(), 16);

  std::vector<std::int64_t> sums(2);
  std::vector<std::thread> callers;
  for (std::size_t c = 0; c < sums.size(); ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 200; ++round) sums[c] += sum_on(pool, 64);
    });
  }
  for (auto& t : callers) t.join();
  for (const std::int64_t sum : sums) EXPECT_EQ(sum, 200 * (64 * 63 / 2));
}

TEST(CpuKernelChoice, AutoIsTheWidestAndNarrowerSetsAreGiven) {
  EXPECT_EQ(choose_cpu_kernels("auto", CpuKernels::kAvx2), CpuKernels::kAvx2);
  EXPECT_EQ(choose_cpu_kernels("auto"), widest_cpu_kernels());
  EXPECT_EQ(choose_cpu_kernels("avx2", CpuKernels::kAvx512), CpuKernels::kAvx2);
  EXPECT_EQ(choose_cpu_kernels("portable", CpuKernels::kAvx2), CpuKernels::kPortable);
  EXPECT_EQ(choose_cpu_kernels("portable"), CpuKernels::kPortable);
}

std::string refusal(std::string_view name, CpuKernels widest) {
  try {
    choose_cpu_kernels(name, widest);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(CpuKernelChoice, ASetTheCpuLacksAndAnUnknownNameAreRefused) {
  EXPECT_EQ(refusal("avx512", CpuKernels::kAvx2),
            "cpu_kernels 'avx512': this CPU lacks its instructions (the widest it runs is avx2)");
  EXPECT_EQ(refusal("avx2", CpuKernels::kPortable),
            "cpu_kernels 'avx2': this CPU lacks its instructions (the widest it runs is portable)");
  EXPECT_EQ(refusal("AVX2", CpuKernels::kAvx512),
            "cpu_kernels 'AVX2': expected auto, avx512, avx2 or portable");
  EXPECT_EQ(refusal("", CpuKernels::kAvx512),
            "cpu_kernels '': expected auto, avx512, avx2 or portable");
}

}  // namespace
}  // namespace qdgen::inference
