// Batch insertion throughput (candidates/s) into a 100x100 grid and a 10,000-centroid CVT
// archive, in memory and through the run store (keep all / keep added). Baselines measured
// here: brute-force nearest-centroid lookup for the CVT's k-d tree, and in-memory adding for
// the store. pyribs' figure for a 100x100 grid (0.6-1 M/s) is quoted, not measured.
// Novelty archive (NSLC settings: k = 15, threshold 3.7, local competition, 540 per batch):
// k-d tree search against brute force over the same batches, results checked equal; and an
// embedding-space workload (384-D unit vectors, batches of 64): the blocked matrix-product
// search against brute force.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "qdgen/archive/cvt_archive.hpp"
#include "qdgen/archive/grid_archive.hpp"
#include "qdgen/archive/novelty_archive.hpp"
#include "qdgen/archive/random_draws.hpp"
#include "qdgen/store/run_store.hpp"

using namespace qdgen::archive;
using namespace qdgen::store;

namespace {

constexpr int kBatch = 10'000;
constexpr int kBatches = 30;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Numeric candidates as a benchmark domain makes them: 10-d solution, 2 measures in [0, 1].
std::vector<std::vector<Candidate>> make_batches(std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<Candidate>> batches(kBatches);
  std::int64_t id = 0;
  for (int b = 0; b < kBatches; ++b)
    for (int i = 0; i < kBatch; ++i) {
      Candidate c;
      c.id = id++;
      c.iteration = b;
      Eigen::VectorXd solution(10);
      for (int d = 0; d < 10; ++d) solution[d] = uniform01(rng);
      c.solution = std::move(solution);
      c.objective = uniform01(rng);
      c.measures = Eigen::Vector2d(uniform01(rng), uniform01(rng));
      c.op = "gaussian";
      batches[static_cast<std::size_t>(b)].push_back(std::move(c));
    }
  return batches;
}

double in_memory_rate(Archive& archive, const std::vector<std::vector<Candidate>>& batches) {
  archive.clear();
  const auto start = std::chrono::steady_clock::now();
  for (const auto& batch : batches) archive.add(batch);
  return kBatch * kBatches / seconds_since(start);
}

double store_rate(Archive& archive, const std::vector<std::vector<Candidate>>& batches,
                  KeepCandidates keep, double& file_mb) {
  archive.clear();
  const auto path = std::filesystem::temp_directory_path() /
                    ("qdgen-bench-" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(path);
  Rng rng(1);
  const auto start = std::chrono::steady_clock::now();
  {
    auto store = RunStore::create(path, {{"bench", "archive"}}, 1, RunStoreOptions{keep});
    for (std::size_t b = 0; b < batches.size(); ++b) {
      IterationRecord record;
      record.iteration = static_cast<std::int64_t>(b);
      record.candidates = batches[b];
      record.add_results = archive.add(batches[b]);
      std::ostringstream state;
      state << rng;
      record.rng_state = state.str();
      record.metrics = {{"qd_score", archive.stats().qd_score}};
      store->commit(record);
    }
  }
  const double rate = kBatch * kBatches / seconds_since(start);
  file_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  std::filesystem::remove(path);
  return rate;
}

void report(const char* name, Archive& archive,
            const std::vector<std::vector<Candidate>>& batches) {
  double best = 0;
  for (int repeat = 0; repeat < 3; ++repeat)
    best = std::max(best, in_memory_rate(archive, batches));
  std::printf("%-28s in memory      %8.2f M candidates/s\n", name, best / 1e6);
  for (const KeepCandidates keep : {KeepCandidates::kAll, KeepCandidates::kAdded}) {
    double mb = 0;
    const double rate = store_rate(archive, batches, keep, mb);
    std::printf("%-28s store keep=%-5s %7.3f M candidates/s (%.2fx of in memory, file %.1f MB)\n",
                name, to_string(keep).c_str(), rate / 1e6, rate / best, mb);
  }
}

double cpu_seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// Adds every batch; returns {wall s, cpu s} and accumulates a bitwise checksum of results.
std::pair<double, double> run_novelty(NoveltyArchive& archive,
                                      const std::vector<std::vector<Candidate>>& batches,
                                      std::uint64_t& checksum) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu = cpu_seconds();
  for (const auto& batch : batches)
    for (const AddResult& r : archive.add(batch)) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &r.value, sizeof bits);
      checksum = checksum * 1099511628211ULL + bits + static_cast<std::uint64_t>(r.cell) * 3 +
                 static_cast<std::uint64_t>(r.status);
    }
  return {seconds_since(start), cpu_seconds() - cpu};
}

// Adds the batches to an archive with `options` (a fast neighbour search) and to one searching
// by brute force; prints both rates, their ratio and whether the results agree bit for bit.
void compare_with_brute_force(const char* label, const char* search, NoveltyOptions options,
                              const std::vector<std::vector<Candidate>>& batches) {
  NoveltyArchive fast(2, options);
  options.search = NeighborSearch::kBruteForce;
  NoveltyArchive brute(2, options);
  std::uint64_t fast_sum = 0, brute_sum = 0;
  const auto [fast_wall, fast_cpu] = run_novelty(fast, batches, fast_sum);
  const auto [brute_wall, brute_cpu] = run_novelty(brute, batches, brute_sum);
  const double n = static_cast<double>(batches.size() * batches.front().size());
  std::printf(
      "%s, %zu x %zu candidates, final size %lld: %s %.0f /s (cpu %.2f s), brute force %.0f /s "
      "(cpu %.2f s): %.1fx wall, %.1fx cpu, results %s\n",
      label, batches.size(), batches.front().size(), static_cast<long long>(fast.size()), search,
      n / fast_wall, fast_cpu, n / brute_wall, brute_cpu, brute_wall / fast_wall,
      brute_cpu / fast_cpu, fast_sum == brute_sum ? "identical" : "DIFFER");
}

void report_novelty() {
  // Measures as sphere-100D's half sums spread over the run: a Gaussian cloud that widens.
  constexpr int kNoveltyBatch = 540;
  constexpr int kNoveltyBatches = 150;
  Rng rng(5);
  auto normal = [&rng] {  // Box-Muller; a benchmark input needs no portable stream
    return std::sqrt(-2.0 * std::log(1.0 - uniform01(rng))) *
           std::cos(6.283185307179586 * uniform01(rng));
  };
  std::vector<std::vector<Candidate>> batches(kNoveltyBatches);
  std::int64_t id = 0;
  for (int b = 0; b < kNoveltyBatches; ++b) {
    const double spread = 10.0 + 90.0 * b / kNoveltyBatches;
    for (int i = 0; i < kNoveltyBatch; ++i) {
      Candidate c;
      c.id = id++;
      c.objective = uniform01(rng) * 100.0;
      c.measures = Eigen::Vector2d(spread * normal(), spread * normal());
      c.solution = Eigen::VectorXd::Zero(1);
      batches[static_cast<std::size_t>(b)].push_back(std::move(c));
    }
  }
  NoveltyOptions options;
  options.k = 15;
  options.threshold = 3.7;
  options.local_competition = true;
  options.search = NeighborSearch::kTree;
  compare_with_brute_force("novelty NSLC 2-D", "k-d tree", options, batches);
}

void report_embedding_novelty() {
  constexpr int kDim = 384;
  constexpr int kEmbeddingBatch = 64;
  constexpr int kEmbeddingBatches = 80;
  Rng rng(9);
  auto normal = [&rng] {
    return std::sqrt(-2.0 * std::log(1.0 - uniform01(rng))) *
           std::cos(6.283185307179586 * uniform01(rng));
  };
  std::vector<std::vector<Candidate>> batches(kEmbeddingBatches);
  std::int64_t id = 0;
  for (auto& batch : batches)
    for (int i = 0; i < kEmbeddingBatch; ++i) {
      Candidate c;
      c.id = id++;
      c.objective = uniform01(rng);
      c.measures = Eigen::Vector2d(0, 0);
      Eigen::VectorXf e(kDim);
      for (int d = 0; d < kDim; ++d) e[d] = static_cast<float>(normal());
      c.embedding = e / e.norm();  // unit vectors, as sentence embeddings usually are
      c.solution = std::string("text");
      batch.push_back(std::move(c));
    }
  NoveltyOptions options;
  options.k = 15;
  options.threshold = 1.2;  // admits most: the archive grows to a few thousand members
  options.space = NoveltySpace::kEmbedding;
  options.search = NeighborSearch::kAuto;
  compare_with_brute_force("novelty 384-D embeddings", "blocked", options, batches);
}

}  // namespace

int main() {
  std::printf("batches of %d candidates, %d batches (%d candidates) per measurement\n", kBatch,
              kBatches, kBatch * kBatches);
  const auto batches = make_batches(42);

  GridArchive grid({GridDimension::uniform(0, 1, 100), GridDimension::uniform(0, 1, 100)});
  report("grid 100x100", grid, batches);
  double best = 0;
  for (int repeat = 0; repeat < 3; ++repeat) best = std::max(best, in_memory_rate(grid, batches));
  std::printf("grid 100x100 vs pyribs' quoted 0.6-1 M/s: %.1fx-%.1fx\n", best / 1e6, best / 0.6e6);

  CentroidOptions options;
  options.cells = 10'000;
  options.ranges = {{0, 1}, {0, 1}};
  options.samples = 100'000;
  options.max_iterations = 20;
  options.seed = 7;
  const auto start = std::chrono::steady_clock::now();
  CvtArchive cvt(cvt_centroids(options));
  std::printf("cvt 10000 centroids: k-means over 100000 samples, 20 iterations: %.2f s\n",
              seconds_since(start));
  report("cvt 10000 centroids", cvt, batches);

  // Lookup alone: k-d tree against brute force over the same queries.
  const auto& queries = batches.front();
  auto lookup = std::chrono::steady_clock::now();
  std::int64_t checksum = 0;
  for (const Candidate& c : queries) checksum += cvt.index_of(c.measures);
  const double tree_rate = kBatch / seconds_since(lookup);
  lookup = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i)
    checksum -= cvt.nearest_centroid_brute_force(queries[static_cast<std::size_t>(i)].measures);
  const double brute_rate = 1000 / seconds_since(lookup);
  std::printf("cvt lookup: k-d tree %.2f M/s, brute force %.3f M/s: %.0fx (checksum %lld)\n",
              tree_rate / 1e6, brute_rate / 1e6, tree_rate / brute_rate,
              static_cast<long long>(checksum));
  report_novelty();
  report_embedding_novelty();
  return 0;
}
