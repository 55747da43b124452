#pragma once
// The run store's writer: one SQLite file per run, whole iterations committed in groups.
// The schema is documented in README.md ("Run store schema"); RunReader reads a run.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "qdgen/archive/elite.hpp"
#include "qdgen/store/run_info.hpp"

namespace qdgen::store {

// Everything one iteration adds to the store; committed atomically.
struct IterationRecord {
  std::int64_t iteration = 0;
  std::vector<archive::Candidate> candidates;   // every evaluated candidate of the iteration
  std::vector<archive::AddResult> add_results;  // one per candidate, same order
  // CMA-MAE: the outcome in the separate result archive (plain thresholds), one per
  // candidate; empty when the search keeps one archive. The elite table follows it.
  std::vector<archive::AddResult> result_add_results;
  // Elites that left the archive without being replaced through add_results (NSLC).
  std::vector<std::int64_t> removed_candidate_ids;
  nlohmann::json metrics = nlohmann::json::object();       // QD score, coverage, Vendi, ...
  nlohmann::json timings = nlohmann::json::object();       // seconds per phase
  std::string rng_state;                                   // serialised Rng after the iteration
  nlohmann::json engine_state = nlohmann::json::object();  // emitters, scheduler (for resume)
};

struct RunStoreOptions {
  KeepCandidates keep_candidates = KeepCandidates::kAll;
  // See RunStore::set_commit_interval; 0 commits every iteration on its own.
  double commit_interval_seconds = 0.0;
};

class RunStore {
 public:
  // Creates a new run file; refuses to touch an existing file. The file appears complete
  // or not at all (written under a temporary name, then linked into place).
  static std::unique_ptr<RunStore> create(const std::filesystem::path& path,
                                          const nlohmann::json& config, std::uint64_t seed);
  static std::unique_ptr<RunStore> create(const std::filesystem::path& path,
                                          const nlohmann::json& config, std::uint64_t seed,
                                          const RunStoreOptions& options);
  // Opens an existing run to resume it: checks it is a qdgen store of a schema this qdgen
  // reads and that the run is not finished. Never modifies the file when a check fails.
  static std::unique_ptr<RunStore> open_for_resume(const std::filesystem::path& path);
  // Opens read-only (export, report, analysis); works while another process writes.
  static std::unique_ptr<RunStore> open_read_only(const std::filesystem::path& path);

  virtual ~RunStore() = default;

  virtual RunInfo info() const = 0;
  // Writes one iteration: candidates, elite changes, metrics, timings, RNG and engine state,
  // all or nothing (a failed commit leaves the iterations before it in place). Iterations are
  // committed to the file in groups, once the oldest uncommitted one is commit_interval old;
  // a crash loses only those, and the file stays consistent and resumable from the last
  // committed iteration. One SQLite transaction per iteration dirtied the same index pages
  // over and over: grouping them made a stored sphere run 1.6x faster.
  virtual void commit(const IterationRecord& record) = 0;
  // Commits the iterations written since the last commit (set_status and the destructor do
  // too). A stopped run calls it before it returns.
  virtual void flush() = 0;
  virtual void set_commit_interval(double seconds) = 0;
  virtual void set_status(RunStatus status) = 0;
  // Marks the run failed, keeping the reason (meta key "failure", RunInfo::failure). What was
  // committed stays; a resume may try again (a full disk may be cleared, a config cannot).
  virtual void mark_failed(const std::string& reason) = 0;

  // For resume: candidates that entered the archive (or the result archive), in the order
  // they were added (iteration, then position in the batch). Re-adding them batch by batch,
  // one batch per iteration, rebuilds both archives exactly: a candidate one archive
  // rejected changes nothing there.
  virtual std::vector<std::vector<archive::Candidate>> added_candidates_by_iteration() const = 0;
  // The RNG and engine state saved with the last committed iteration.
  virtual std::string last_rng_state() const = 0;
  virtual nlohmann::json last_engine_state() const = 0;
};

}  // namespace qdgen::store
