#pragma once
// Running the real qdgen binary and reading the SQLite stores it writes, for the engine's
// end-to-end tests.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace qdgen_test {

struct ProcessResult {
  int status = -1;     // exit status, -1 when killed by a signal
  std::string output;  // stdout and stderr together
};

inline ProcessResult qdgen(const std::string& args) {
  const std::string command = std::string(QDGEN_BINARY) + " " + args + " 2>&1";
  ProcessResult r;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) r.output += buffer;
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Rows of a query, one string per row, columns joined by '|'.
inline std::vector<std::string> rows(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::vector<std::string> out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, c));
      row += std::string(bytes == nullptr ? "" : bytes, sqlite3_column_bytes(stmt, c)) + "|";
    }
    out.push_back(row);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

}  // namespace qdgen_test
