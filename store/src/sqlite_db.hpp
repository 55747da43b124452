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

namespace qdgen::store {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql, const std::string& file);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, double value);
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
  // flags: SQLITE_OPEN_READONLY or SQLITE_OPEN_READWRITE (never CREATE here).
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
