// `qdgen report` as a user runs it: the files it writes and where, and one line naming the file
// and what was expected for every bad input (a missing file, a file that is not SQLite, an
// SQLite file that is not a qdgen run, an output folder that cannot be used), exit status 1.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "run_process.hpp"
#include "scratch_directory.hpp"
#include "viz_stores.hpp"

namespace {

namespace fs = std::filesystem;

class ReportCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = scratch_.path() / "grid.sqlite";
    qdgen_test::make_store(qdgen_test::sphere_config("grid", qdgen_test::grid_archive()), store_);
  }
  void expect_refused(const std::string& arguments, const std::string& message) {
    const auto result = qdgen_test::qdgen("report " + arguments);
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_EQ(result.output, "qdgen report: " + message + "\n");
  }
  qdgen_test::ScratchDirectory scratch_;
  fs::path store_;
};

TEST_F(ReportCommand, WritesTheFourFilesBesideTheRunByDefault) {
  const auto result = qdgen_test::qdgen("report " + store_.string());
  ASSERT_EQ(result.status, 0) << result.output;
  const fs::path folder = scratch_.path() / "grid-report";
  EXPECT_EQ(result.output.rfind("report: " + (folder / "index.html").string() + "\n", 0), 0u)
      << result.output;
  for (const char* name : {"index.html", "archive.png", "archive.svg", "curves.svg"})
    EXPECT_GT(fs::file_size(folder / name), 100u) << name;
  // Again: an earlier report is replaced without asking.
  EXPECT_EQ(qdgen_test::qdgen("report " + store_.string()).status, 0);
}

TEST_F(ReportCommand, RefusesAMissingFileAndLeavesNoFolder) {
  const fs::path out = scratch_.path() / "out";
  expect_refused((scratch_.path() / "nope.sqlite").string() + " -o " + out.string(),
                 (scratch_.path() / "nope.sqlite").string() + ": no such run file");
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ReportCommand, RefusesFilesThatAreNotQdgenRuns) {
  const fs::path text =
      scratch_.write("notes.sqlite", "just some text, long enough to be a header");
  expect_refused(text.string() + " -o " + (scratch_.path() / "a").string(),
                 text.string() + ": not an SQLite database (expected a qdgen run file)");
  // A real SQLite database of another program.
  const fs::path other = scratch_.path() / "other.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  expect_refused(store_.string() + " " + other.string() + " -o " + (scratch_.path() / "b").string(),
                 other.string() +
                     ": an SQLite database but not a qdgen run (no meta row application = qdgen)");
  EXPECT_FALSE(fs::exists(scratch_.path() / "b")) << "nothing is written when any input is bad";
}

TEST_F(ReportCommand, RefusesOutputFoldersItCannotUse) {
  const fs::path file = scratch_.write("plain.txt", "x");
  expect_refused(store_.string() + " -o " + file.string(),
                 file.string() + ": exists and is not a folder; the report is a folder of files");
  expect_refused(store_.string() + " -o " + (file / "sub").string(),
                 (file / "sub").string() + ": cannot create the folder (Not a directory)");
  const fs::path mine = scratch_.path() / "mine";
  fs::create_directories(mine);
  std::ofstream(mine / "keep.txt") << "keep";
  expect_refused(store_.string() + " -o " + mine.string(),
                 mine.string() +
                     ": not empty and not a qdgen report (no index.html written by qdgen report); "
                     "name a new or empty folder, or add --overwrite");
  const auto forced =
      qdgen_test::qdgen("report " + store_.string() + " -o " + mine.string() + " --overwrite");
  EXPECT_EQ(forced.status, 0) << forced.output;
  EXPECT_TRUE(fs::exists(mine / "index.html"));
  EXPECT_TRUE(fs::exists(mine / "keep.txt"));
  const auto empty = qdgen_test::qdgen("report " + store_.string() + " -o ''");
  EXPECT_EQ(empty.status, 105);
  EXPECT_NE(empty.output.find("--output: expected a non-empty value, got ''"), std::string::npos);
}

TEST_F(ReportCommand, RefusesAnUnwritableFolder) {
  // Root writes anywhere on disk, but not into /proc: there the refusal is tested as root too.
  const bool root = ::geteuid() == 0;
  const fs::path locked = root ? fs::path("/proc/qdgen-report-test") : scratch_.path() / "locked";
  if (!root) {
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  }
  const auto result = qdgen_test::qdgen("report " + store_.string() + " -o " + locked.string());
  if (!root) fs::permissions(locked, fs::perms::owner_all);
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find(locked.string()), std::string::npos) << result.output;
}

}  // namespace
