#include "run_file.hpp"

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

void check_is_readable_run(SqliteDb& db) {
  const std::string& file = db.file();
  std::int64_t version = 0;
  try {
    version = db.query_int("PRAGMA user_version");
    db.query_int("SELECT count(*) FROM sqlite_schema");
  } catch (const RunStoreError&) {
    throw RunStoreError(file + ": not an SQLite database (expected a qdgen run file)");
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
    info.config = nlohmann::json::parse(run.text(0));
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
  SqliteStatement last = db.prepare("SELECT max(iteration) FROM iteration");
  if (last.step() && !last.is_null(0)) info.last_iteration = last.int64(0);
  return info;
}

}  // namespace qdgen::store
