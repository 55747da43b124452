#pragma once
// What a run file says about its run, shared by the writer (RunStore) and RunReader.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace qdgen::store {

enum class RunStatus { kRunning, kFinished, kFailed };

// Which candidates a run keeps: every evaluated one, or only those that entered an
// archive (status > 0 in either archive) -- enough to resume, for huge numeric runs.
enum class KeepCandidates { kAll, kAdded };

struct RunInfo {
  nlohmann::json config;
  std::uint64_t seed = 0;
  std::string created;        // ISO 8601 UTC
  std::string qdgen_version;  // of the qdgen that created the run
  RunStatus status = RunStatus::kRunning;
  std::string failure;  // why a failed run failed (empty otherwise)
  std::optional<std::int64_t> last_iteration;  // last committed iteration, if any
  KeepCandidates keep_candidates = KeepCandidates::kAll;
  int schema_version = 0;
};

std::string to_string(RunStatus status);
std::string to_string(KeepCandidates keep);

// The schema version this qdgen writes (PRAGMA user_version and meta.schema_version).
inline constexpr int kRunStoreSchemaVersion = 1;

// Every error about a run file: one line that starts with the file's name.
class RunStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace qdgen::store
