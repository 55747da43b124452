#pragma once
// Thin RAII over the SQLite C API: one connection, prepared statements, errors as
// RunStoreError naming the file.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qdgen/store/run_info.hpp"

namespace qdgen::store {

// An error SQLite reported, with its primary result code (SQLITE_CORRUPT, SQLITE_NOTADB, ...)
// so that callers can say what it means for a run file.
class SqliteError : public RunStoreError {
 public:
  SqliteError(const std::string& message, int code) : RunStoreError(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql, const std::string& file);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, double value);
  // Text is bound as valid UTF-8 (qdgen/io/utf8.hpp): readers of the file (Python's sqlite3,
  // pandas) fail on anything else.
  SqliteStatement& bind(int index, const std::string& value);
  SqliteStatement& bind_blob(int index, std::span<const std::byte> bytes);
  SqliteStatement& bind_null(int index);
  bool step();  // true while a row is available
  void reset();

  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::vector<std::byte> blob(int column) const;
  // Views into the current row, valid until the next step() or reset().
  std::string_view text_view(int column) const;
  std::span<const std::byte> blob_view(int column) const;

 private:
  void check(int code, const char* what) const;
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
  std::string file_;
};

class SqliteDb {
 public:
  // flags: SQLITE_OPEN_READONLY or SQLITE_OPEN_READWRITE (never CREATE here). Read-only
  // also works in a folder the user cannot write (where SQLite cannot create the -shm file
  // WAL needs): a run whose write-ahead log is empty is opened immutable; one with a
  // non-empty log and no -shm cannot be read there, and the error says so.
  SqliteDb(const std::filesystem::path& path, int flags);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  void exec(const std::string& sql);
  SqliteStatement prepare(const std::string& sql) { return {db_, sql, file_}; }
  std::unique_ptr<SqliteStatement> prepare_kept(const std::string& sql) {
    return std::make_unique<SqliteStatement>(db_, sql, file_);
  }
  std::optional<std::string> query_text(const std::string& sql);
  std::int64_t query_int(const std::string& sql);
  const std::string& file() const { return file_; }

 private:
  sqlite3* db_ = nullptr;
  std::string file_;
};

}  // namespace qdgen::store
