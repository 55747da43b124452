#include "sqlite_db.hpp"

#include <unistd.h>

#include <array>
#include <fstream>

#include "qdgen/io/utf8.hpp"
#include "qdgen/store/run_store.hpp"

namespace qdgen::store {

namespace {

namespace fs = std::filesystem;

fs::path folder_of(const fs::path& file) {
  return file.has_parent_path() ? file.parent_path() : fs::path(".");
}

// Bytes 18 and 19 of the SQLite header are 2 in WAL mode.
bool is_wal_database(const fs::path& file) {
  std::array<char, 20> header{};
  std::ifstream in(file, std::ios::binary);
  return in.read(header.data(), header.size()) && header[18] == 2 && header[19] == 2;
}

std::string uri_of(const fs::path& file) {
  std::string uri = "file:";
  for (const char c : fs::absolute(file).string()) {
    if (c == '%' || c == '?' || c == '#') {
      static constexpr char kHex[] = "0123456789abcdef";
      uri += '%';
      uri += kHex[static_cast<unsigned char>(c) >> 4];
      uri += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

// Reading a WAL database needs its -shm file: SQLite creates it beside the run unless it
// exists. Where the folder is read-only and it does not, a run with an empty log holds all
// its data in the main file and is safely opened immutable (no writer can be at work: one
// would have created the -wal and -shm files).
bool open_immutable(const fs::path& file) {
  if (::access(folder_of(file).c_str(), W_OK) == 0 || !is_wal_database(file)) return false;
  fs::path wal = file, shm = file;
  wal += "-wal";
  shm += "-shm";
  std::error_code error;
  const bool has_shm = fs::exists(shm, error);
  const std::uintmax_t wal_size = fs::exists(wal, error) ? fs::file_size(wal, error) : 0;
  if (has_shm && fs::exists(wal, error)) return false;  // SQLite reads both read-only
  if (wal_size == 0) return true;
  throw RunStoreError(file.string() + ": cannot read it here: its folder " +
                      folder_of(file).string() + " is not writable and SQLite needs to create " +
                      shm.filename().string() + " beside it to read the unfinished " +
                      wal.filename().string() + "; make the folder writable, or copy " +
                      file.filename().string() + " and " + wal.filename().string() +
                      " to a writable folder");
}

}  // namespace

SqliteDb::SqliteDb(const std::filesystem::path& path, int flags) : file_(path.string()) {
  std::string name = file_;
  int open_flags = flags | SQLITE_OPEN_NOMUTEX;
  if ((flags & SQLITE_OPEN_READONLY) && open_immutable(path)) {
    name = uri_of(path);
    open_flags |= SQLITE_OPEN_URI;
  }
  const int code = sqlite3_open_v2(name.c_str(), &db_, open_flags, nullptr);
  if (code != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    sqlite3_close(db_);
    throw SqliteError(file_ + ": cannot open as SQLite (" + message + ")", code & 0xff);
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
    throw SqliteError(file_ + ": " + message, sqlite3_errcode(db_) & 0xff);
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
  throw SqliteError(file_ + ": " + sqlite3_errmsg(db_) + " (" + what + ")", code & 0xff);
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
  if (!io::is_valid_utf8(value)) return bind(index, io::valid_utf8(value));
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
