#include "sqlite_db.hpp"

#include "qdgen/store/run_store.hpp"

namespace qdgen::store {

SqliteDb::SqliteDb(const std::filesystem::path& path, int flags) : file_(path.string()) {
  const int code = sqlite3_open_v2(file_.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    sqlite3_close(db_);
    throw RunStoreError(file_ + ": cannot open as SQLite (" + message + ")");
  }
  // A writer's commit briefly locks out other writers, and a closing writer's checkpoint
  // locks out readers while it removes the WAL: without the wait, a reader opening then read
  // the file as "not an SQLite database" (RunReader test ReadersNeverFail...).
  sqlite3_busy_timeout(db_, 10000);
}

SqliteDb::~SqliteDb() {
  sqlite3_close(db_);
}

void SqliteDb::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw RunStoreError(file_ + ": " + message);
  }
}

std::optional<std::string> SqliteDb::query_text(const std::string& sql) {
  SqliteStatement statement = prepare(sql);
  if (!statement.step() || statement.is_null(0)) return std::nullopt;
  return statement.text(0);
}

std::int64_t SqliteDb::query_int(const std::string& sql) {
  SqliteStatement statement = prepare(sql);
  return statement.step() ? statement.int64(0) : 0;
}

SqliteStatement::SqliteStatement(sqlite3* db, const std::string& sql, const std::string& file)
    : db_(db), file_(file) {
  check(sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement_, nullptr),
        "prepare");
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(statement_);
}

void SqliteStatement::check(int code, const char* what) const {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) return;
  throw RunStoreError(file_ + ": " + sqlite3_errmsg(db_) + " (" + what + ")");
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(statement_, index, value), "bind");
  return *this;
}
SqliteStatement& SqliteStatement::bind(int index, double value) {
  check(sqlite3_bind_double(statement_, index, value), "bind");
  return *this;
}
SqliteStatement& SqliteStatement::bind(int index, const std::string& value) {
  check(sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT),
        "bind");
  return *this;
}
SqliteStatement& SqliteStatement::bind_blob(int index, std::span<const std::byte> bytes) {
  check(sqlite3_bind_blob(statement_, index, bytes.data(), static_cast<int>(bytes.size()),
                          SQLITE_TRANSIENT),
        "bind");
  return *this;
}
SqliteStatement& SqliteStatement::bind_null(int index) {
  check(sqlite3_bind_null(statement_, index), "bind");
  return *this;
}

bool SqliteStatement::step() {
  const int code = sqlite3_step(statement_);
  check(code, "step");
  return code == SQLITE_ROW;
}

void SqliteStatement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

bool SqliteStatement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}
std::int64_t SqliteStatement::int64(int column) const {
  return sqlite3_column_int64(statement_, column);
}
double SqliteStatement::real(int column) const {
  return sqlite3_column_double(statement_, column);
}
std::string SqliteStatement::text(int column) const {
  const auto* data = sqlite3_column_text(statement_, column);
  return data ? std::string(reinterpret_cast<const char*>(data),
                            static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
              : std::string();
}
std::vector<std::byte> SqliteStatement::blob(int column) const {
  const std::span<const std::byte> bytes = blob_view(column);
  return {bytes.begin(), bytes.end()};
}
std::string_view SqliteStatement::text_view(int column) const {
  const auto* data = sqlite3_column_text(statement_, column);
  return data ? std::string_view(reinterpret_cast<const char*>(data),
                                 static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
              : std::string_view();
}
std::span<const std::byte> SqliteStatement::blob_view(int column) const {
  const void* data = sqlite3_column_blob(statement_, column);
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_, column));
  return size > 0 ? std::span<const std::byte>(static_cast<const std::byte*>(data), size)
                  : std::span<const std::byte>();
}

}  // namespace qdgen::store
