#pragma once
// A read-only view of a run file, for export, reports and analysis: the run, its iterations,
// the current elites, the candidates and their lineage. It never writes to the file and works
// while a run writes it: each call (or everything inside one Snapshot) sees the iterations
// committed when it began. One thread at a time per reader.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qdgen/archive/elite.hpp"
#include "qdgen/store/run_info.hpp"

namespace qdgen::store {

// A candidate as stored: the candidate, its place in its iteration's batch and what the
// archives made of it. A value SQLite did not keep (it stores NaN as NULL) reads back as NaN.
struct StoredCandidate {
  archive::Candidate candidate;
  std::int64_t batch_index = 0;
  archive::AddResult outcome;  // in the archive the emitters fill
  // In the CMA-MAE result archive (same cell as outcome); none when the run keeps one archive.
  std::optional<archive::AddResult> result_outcome;
};

struct StoredElite {
  std::int64_t cell = -1;
  std::int64_t iteration = 0;  // when it took the cell
  StoredCandidate candidate;
};

struct IterationRow {
  std::int64_t iteration = 0;
  std::string committed;  // ISO 8601 UTC
  std::int64_t num_candidates = 0;
  std::int64_t num_added = 0;  // entered either archive
  std::int64_t num_new = 0;    // filled a new cell in either archive
  nlohmann::json metrics;      // QD score, coverage, ...
  nlohmann::json timings;      // seconds per phase
};

// One step up a candidate's lineage.
struct Ancestor {
  std::int64_t id = -1;
  int generation = 0;  // 0: the candidate itself, 1: a parent, 2: a grandparent, ...
  bool stored = true;  // false: a parent the store does not hold (keep = added)
  std::int64_t iteration = -1;
  std::string op;  // the operator that made it
  std::vector<std::int64_t> parents;
};

class RunReader {
 public:
  // Opens read-only. Throws RunStoreError, one line naming the file, for a missing file, a
  // file that is not SQLite, not a qdgen run, or of a newer schema.
  explicit RunReader(const std::filesystem::path& path);
  ~RunReader();
  RunReader(RunReader&&) noexcept;
  RunReader& operator=(RunReader&&) noexcept;

  RunInfo info() const;

  std::vector<IterationRow> iterations() const;  // in order
  void for_each_iteration(const std::function<void(const IterationRow&)>& visit) const;

  std::vector<StoredElite> elites() const;  // the current elite table, by cell
  void for_each_elite(const std::function<void(const StoredElite&)>& visit) const;

  std::optional<StoredCandidate> candidate(std::int64_t id) const;
  std::vector<StoredCandidate> candidates_of_iteration(std::int64_t iteration) const;  // by batch
  // Every stored candidate in id order (the order the engine made them: iteration, then
  // position in the batch), decoded one at a time: memory stays flat in the number of them.
  void for_each_candidate(const std::function<void(const StoredCandidate&)>& visit) const;
  std::int64_t candidate_count() const;
  // The most measures of any stored candidate, or of any current elite: a table's width.
  std::size_t max_candidate_measures() const;
  std::size_t max_elite_measures() const;

  // The candidate, then its ancestors breadth first, each once at its nearest generation
  // (parents in the order stored). Empty when the store holds no candidate with this id.
  std::vector<Ancestor> lineage(std::int64_t id) const;

  // While a Snapshot lives, every read of its reader sees the file as it was when the
  // snapshot began (one read transaction), however many iterations a run commits meanwhile.
  class Snapshot {
   public:
    explicit Snapshot(const RunReader& reader);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    const RunReader& reader_;
  };

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qdgen::store
