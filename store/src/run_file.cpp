#include "run_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qdgen/io/json_text.hpp"

namespace qdgen::store {

std::string to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kFinished:
      return "finished";
    case RunStatus::kFailed:
      return "failed";
  }
  return "running";
}

std::string to_string(KeepCandidates keep) {
  return keep == KeepCandidates::kAdded ? "added" : "all";
}

namespace {

RunStatus status_from(const std::string& text) {
  if (text == "finished") return RunStatus::kFinished;
  if (text == "failed") return RunStatus::kFailed;
  return RunStatus::kRunning;
}

}  // namespace

void check_run_path(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  const std::string file = path.string();
  if (!fs::exists(status)) throw RunStoreError(file + ": no such run file");
  if (fs::is_directory(status))
    throw RunStoreError(file +
                        ": is a folder, not a run file (expected the .sqlite file qdgen run "
                        "--out wrote)");
  if (!fs::is_regular_file(status))
    throw RunStoreError(file + ": is not a regular file (expected a qdgen run file)");
  if (::access(path.c_str(), R_OK) != 0)
    throw RunStoreError(file + ": cannot read (" + std::strerror(errno) + ")");
  if (fs::file_size(path, error) == 0)
    throw RunStoreError(file + ": is empty (0 bytes; expected a qdgen run file)");
}

void check_run_writable(const std::filesystem::path& path) {
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  if (::access(folder.c_str(), W_OK) != 0)
    throw RunStoreError(path.string() + ": cannot resume here: its folder " + folder.string() +
                        " must be writable (" + std::strerror(errno) +
                        "; SQLite writes the run's -wal and -shm files beside it)");
  if (::access(path.c_str(), W_OK) != 0)
    throw RunStoreError(path.string() + ": cannot resume: the file is not writable (" +
                        std::strerror(errno) + ")");
}

void check_is_readable_run(SqliteDb& db) {
  const std::string& file = db.file();
  std::int64_t version = 0;
  try {
    version = db.query_int("PRAGMA user_version");
    db.query_int("SELECT count(*) FROM sqlite_schema");
  } catch (const SqliteError& e) {
    // SQLite's own words for the two ways a file fails, as sqlite3 prints them.
    if (e.code() == SQLITE_NOTADB)
      throw RunStoreError(file + ": not an SQLite database (expected a qdgen run file)");
    if (e.code() == SQLITE_CORRUPT)
      throw RunStoreError(file +
                          ": database disk image is malformed (the run file is damaged or "
                          "truncated)");
    throw;
  }
  const bool has_meta = db.query_int(
                            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = "
                            "'meta'") == 1;
  if (!has_meta || db.query_text("SELECT value FROM meta WHERE key = 'application'") != "qdgen")
    throw RunStoreError(file +
                        ": an SQLite database but not a qdgen run (no meta row application = "
                        "qdgen)");
  if (version > kRunStoreSchemaVersion)
    throw RunStoreError(file + ": written by a newer qdgen (schema version " +
                        std::to_string(version) + "; this qdgen reads up to " +
                        std::to_string(kRunStoreSchemaVersion) + ")");
  if (version < 1)
    throw RunStoreError(file + ": schema version " + std::to_string(version) +
                        " is not one qdgen wrote (expected 1.." +
                        std::to_string(kRunStoreSchemaVersion) + ")");
}

RunInfo read_run_info(SqliteDb& db) {
  RunInfo info;
  SqliteStatement run =
      db.prepare("SELECT config, seed, created, qdgen_version, status, keep_candidates FROM run");
  if (!run.step()) throw RunStoreError(db.file() + ": the run table is empty");
  try {
    info.config = io::parse_json(run.text_view(0));
  } catch (const nlohmann::json::parse_error& e) {
    throw RunStoreError(db.file() + ": run.config is not JSON (parse error at byte " +
                        std::to_string(e.byte) + ")");
  }
  info.seed = static_cast<std::uint64_t>(run.int64(1));
  info.created = run.text(2);
  info.qdgen_version = run.text(3);
  info.status = status_from(run.text(4));
  info.keep_candidates = run.text(5) == "added" ? KeepCandidates::kAdded : KeepCandidates::kAll;
  info.schema_version = static_cast<int>(db.query_int("PRAGMA user_version"));
  SqliteStatement failure = db.prepare("SELECT value FROM meta WHERE key = 'failure'");
  if (failure.step()) info.failure = failure.text(0);
  SqliteStatement last = db.prepare("SELECT max(iteration) FROM iteration");
  if (last.step() && !last.is_null(0)) info.last_iteration = last.int64(0);
  return info;
}

}  // namespace qdgen::store
