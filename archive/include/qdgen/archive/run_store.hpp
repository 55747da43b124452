#pragma once
// The run store: one SQLite file per run, written one transaction per iteration.
// The schema is documented in README.md ("Run store schema").

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qdgen/archive/elite.hpp"

namespace qdgen::archive {

// Everything one iteration adds to the store; committed atomically.
struct IterationRecord {
  std::int64_t iteration = 0;
  std::vector<Candidate> candidates;   // every evaluated candidate of the iteration
  std::vector<AddResult> add_results;  // one per candidate, same order
  // Elites that left the archive without being replaced through add_results (NSLC).
  std::vector<std::int64_t> removed_candidate_ids;
  nlohmann::json metrics = nlohmann::json::object();  // QD score, coverage, Vendi, ...
  nlohmann::json timings = nlohmann::json::object();  // seconds per phase
  std::string rng_state;                              // serialised Rng after the iteration
  nlohmann::json engine_state = nlohmann::json::object();  // emitters, scheduler (for resume)
};

enum class RunStatus { kRunning, kFinished, kFailed };

struct RunInfo {
  nlohmann::json config;
  std::uint64_t seed = 0;
  std::string created;        // ISO 8601 UTC
  std::string qdgen_version;  // of the qdgen that created the run
  RunStatus status = RunStatus::kRunning;
  std::optional<std::int64_t> last_iteration;  // last committed iteration, if any
};

class RunStore {
 public:
  // Creates a new run file; refuses to touch an existing file.
  static std::unique_ptr<RunStore> create(const std::filesystem::path& path,
                                          const nlohmann::json& config, std::uint64_t seed);
  // Opens an existing run to resume it: checks it is a qdgen store of a schema this qdgen
  // reads and that the run is not finished. Never modifies the file when a check fails.
  static std::unique_ptr<RunStore> open_for_resume(const std::filesystem::path& path);
  // Opens read-only (export, report, analysis); works while another process writes.
  static std::unique_ptr<RunStore> open_read_only(const std::filesystem::path& path);

  virtual ~RunStore() = default;

  virtual RunInfo info() const = 0;
  // One transaction: candidates, elite changes, metrics, timings, RNG and engine state.
  virtual void commit(const IterationRecord& record) = 0;
  virtual void set_status(RunStatus status) = 0;

  // For resume: candidates that entered the archive, in the order they were added
  // (iteration, then position in the batch). Re-adding them batch by batch, one batch per
  // iteration, rebuilds the archive exactly.
  virtual std::vector<std::vector<Candidate>> added_candidates_by_iteration() const = 0;
  // The RNG and engine state saved with the last committed iteration.
  virtual std::string last_rng_state() const = 0;
  virtual nlohmann::json last_engine_state() const = 0;
};

}  // namespace qdgen::archive
