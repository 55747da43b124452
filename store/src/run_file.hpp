#pragma once
// What the writer and RunReader both know of an open run file: whether it is a qdgen run
// this qdgen reads, and its run row.

#include <filesystem>

#include "qdgen/store/run_info.hpp"
#include "sqlite_db.hpp"

namespace qdgen::store {

// Throws RunStoreError, one line naming the file, unless `path` names a file a run can be
// opened from: not missing, not a folder, not empty, readable.
void check_run_path(const std::filesystem::path& path);

// Throws RunStoreError unless the run's folder and the file can be written, as resuming needs
// (SQLite writes the -wal and -shm files beside the run).
void check_run_writable(const std::filesystem::path& path);

// Throws RunStoreError, one line naming the file, unless `db` is a qdgen run of a schema this
// qdgen reads. Runs only reads, so a file that fails is never touched.
void check_is_readable_run(SqliteDb& db);

RunInfo read_run_info(SqliteDb& db);

}  // namespace qdgen::store
