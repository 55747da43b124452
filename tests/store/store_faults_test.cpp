// Run files as they meet the world: damaged or truncated, a folder instead of a file, a
// folder the user cannot write, a umask, and texts that are not UTF-8. Each gets a one-line
// message naming the file, or works.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "qdgen/io/utf8.hpp"
#include "qdgen/store/run_reader.hpp"
#include "qdgen/store/run_store.hpp"
#include "run_process.hpp"
#include "scratch_directory.hpp"
#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

namespace fs = std::filesystem;
using qdgen_test::ScratchDirectory;
using testing::SyntheticRun;

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

void write_run(const fs::path& path, int iterations) {
  SyntheticRun run(3);
  auto store = RunStore::create(path, {{"name", "faults"}}, 3);
  for (int i = 0; i < iterations; ++i) store->commit(run.step());
}

void truncate_copy(const fs::path& from, const fs::path& to, std::uintmax_t size) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::resize_file(to, size);
}

unsigned mode_of(const fs::path& path) {
  struct stat status {};
  EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
  return status.st_mode & 0777;
}

class Umask {
 public:
  explicit Umask(mode_t mask) : previous_(::umask(mask)) {}
  ~Umask() { ::umask(previous_); }

 private:
  mode_t previous_;
};

TEST(StoreFaults, ATruncatedRunIsMalformedInSqlitesWordsNotANonDatabase) {
  ScratchDirectory dir;
  const fs::path run = dir.path() / "run.sqlite";
  write_run(run, 60);
  const std::uintmax_t size = fs::file_size(run);
  ASSERT_GT(size, 100000u);
  for (const std::uintmax_t kept :
       {size / 2, size / 10, std::uintmax_t{4096}, std::uintmax_t{50}}) {
    const fs::path cut = dir.path() / ("cut-" + std::to_string(kept) + ".sqlite");
    truncate_copy(run, cut, kept);
    const std::string message = cut.string() + ": database disk image is malformed";
    EXPECT_NE(error_of([&] { RunReader reader(cut); }).find(message), std::string::npos) << kept;
    EXPECT_NE(error_of([&] { RunStore::open_for_resume(cut); }).find(message), std::string::npos);
    const auto exported = qdgen_test::qdgen("export " + cut.string() + " -o /dev/null");
    EXPECT_EQ(exported.status, 1);
    EXPECT_NE(exported.output.find("qdgen export: " + message), std::string::npos)
        << exported.output;
    EXPECT_EQ(exported.output.find("not an SQLite database"), std::string::npos);
  }
  const fs::path empty = dir.write("empty.sqlite", "");
  EXPECT_EQ(error_of([&] { RunReader reader(empty); }),
            empty.string() + ": is empty (0 bytes; expected a qdgen run file)");
}

TEST(StoreFaults, AFolderIsCalledAFolder) {
  ScratchDirectory dir;
  const std::string message = dir.path().string() +
                              ": is a folder, not a run file (expected the .sqlite file qdgen run "
                              "--out wrote)";
  EXPECT_EQ(error_of([&] { RunStore::open_for_resume(dir.path()); }), message);
  EXPECT_EQ(error_of([&] { RunStore::open_read_only(dir.path()); }), message);
  EXPECT_EQ(error_of([&] { RunReader reader(dir.path()); }), message);
  const auto resumed = qdgen_test::qdgen("run --resume " + dir.path().string());
  EXPECT_EQ(resumed.status, 1);
  EXPECT_EQ(resumed.output, "qdgen run: " + message + "\n");
}

TEST(StoreFaults, RunFilesHonourTheUmask) {
  ScratchDirectory dir;
  for (const auto& [mask, expected] :
       {std::pair<mode_t, unsigned>{022, 0644}, {027, 0640}, {002, 0664}}) {
    const Umask umask(mask);
    const fs::path run = dir.path() / ("run-" + std::to_string(mask) + ".sqlite");
    auto store = RunStore::create(run, {}, 1);
    SyntheticRun synthetic(1);
    store->commit(synthetic.step());
    EXPECT_EQ(mode_of(run), expected) << "umask " << mask;
    fs::path wal = run;
    wal += "-wal";
    EXPECT_EQ(mode_of(wal), expected) << "umask " << mask;  // SQLite copies the file's mode
  }
  const auto shell = qdgen_test::run_shell(
      "cd " + dir.path().string() + " && umask 022 && printf '{\"name\": \"m\", \"domain\": " +
      "{\"kind\": \"sphere\", \"dim\": 2}, \"archive\": {\"type\": \"grid\", \"dims\": " +
      "[{\"range\": [-1, 1], \"cells\": 4}, {\"range\": [-1, 1], \"cells\": 4}]}, " +
      "\"emitters\": [{\"kind\": \"gaussian\", \"batch\": 4, \"sigma\": 0.1}], " +
      "\"iterations\": 3}' > c.json && " + QDGEN_BINARY + " run c.json --out cli.sqlite");
  ASSERT_EQ(shell.status, 0) << shell.output;
  EXPECT_EQ(mode_of(dir.path() / "cli.sqlite"), 0644u);
}

// Texts that are not UTF-8 (byte-level tokens cut a character) are stored repaired, so that
// every reader of the file (Python's sqlite3 refuses such text) can read them, and come back
// repaired from a file written before the store repaired them.
TEST(StoreFaults, TextsThatAreNotUtf8AreStoredAndReadAsValidUtf8) {
  ScratchDirectory dir;
  const fs::path path = dir.path() / "run.sqlite";
  const std::string fffd = "\xEF\xBF\xBD";
  {
    SyntheticRun run(5);
    auto store = RunStore::create(path, {{"prompt", "Once\xE2\x96"}}, 5);
    IterationRecord record = run.step();
    record.candidates[0].solution = std::string("ab\xFF");
    record.candidates[0].op = "mutate\xFE";
    record.candidates[0].metadata = {{"judge", "x\xC3"}, {"k\xFF", 1}};
    record.metrics["note"] = "\xE2\x82";
    store->commit(record);
  }
  const RunReader reader(path);
  EXPECT_EQ(reader.info().config["prompt"], "Once" + fffd);
  const auto stored = reader.candidate(0);
  ASSERT_TRUE(stored);
  EXPECT_EQ(std::get<std::string>(stored->candidate.solution), "ab" + fffd);
  EXPECT_EQ(stored->candidate.op, "mutate" + fffd);
  EXPECT_EQ(stored->candidate.metadata["judge"], "x" + fffd);
  EXPECT_EQ(stored->candidate.metadata["k" + fffd], 1);
  EXPECT_EQ(reader.iterations().at(0).metrics["note"], fffd);

  // What SQLite holds is valid UTF-8 byte for byte.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT solution_text, operator, metadata FROM candidate WHERE "
                     "candidate_id = 0",
                     -1, &select, nullptr);
  ASSERT_EQ(sqlite3_step(select), SQLITE_ROW);
  for (int column = 0; column < 3; ++column) {
    const std::string text(reinterpret_cast<const char*>(sqlite3_column_text(select, column)));
    EXPECT_TRUE(io::is_valid_utf8(text)) << text;
  }
  sqlite3_finalize(select);
  // A file from before: raw invalid bytes in a text and inside a JSON string.
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE candidate SET solution_text = CAST(X'6869FF' AS TEXT), "
                         "metadata = CAST(X'7B226A223A2279C3227D' AS TEXT) "
                         "WHERE candidate_id = 0",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto old = RunReader(path).candidate(0);
  ASSERT_TRUE(old);
  EXPECT_EQ(std::get<std::string>(old->candidate.solution), "hi" + fffd);
  EXPECT_EQ(old->candidate.metadata["j"], "y" + fffd);

  for (const std::string format : {"csv", "jsonl"}) {
    const auto exported =
        qdgen_test::qdgen("export " + path.string() + " --what candidates --format " + format);
    EXPECT_EQ(exported.status, 0) << exported.output;
    EXPECT_TRUE(io::is_valid_utf8(exported.output));
    EXPECT_NE(exported.output.find("hi" + fffd), std::string::npos);
  }
}

// The user running qdgen, or another one who cannot write the folder (tests run as root,
// for whom permissions do not stop writes).
std::string as_user_who_cannot_write(const std::string& command) {
  if (::geteuid() != 0) return command;
  return "setpriv --reuid=65534 --regid=65534 --clear-groups " + command;
}

bool can_test_unwritable_folders() {
  return ::geteuid() != 0 || qdgen_test::run_shell(
                                 "setpriv --reuid=65534 --regid=65534 "
                                 "--clear-groups true")
                                     .status == 0;
}

TEST(StoreFaults, ARunInAFolderTheUserCannotWriteExportsAndResumeSaysWhy) {
  if (!can_test_unwritable_folders()) GTEST_SKIP() << "no setpriv to run as another user";
  ScratchDirectory dir;
  const fs::path folder = dir.path() / "shared";
  fs::create_directories(folder);
  const fs::path closed = folder / "closed.sqlite";
  write_run(closed, 5);  // closed: its write-ahead log is gone
  // A run whose writer was killed: a non-empty log and no -shm beside it.
  const fs::path killed = folder / "killed.sqlite";
  {
    SyntheticRun run(4);
    auto store = RunStore::create(dir.path() / "live.sqlite", {}, 4);
    for (int i = 0; i < 3; ++i) store->commit(run.step());
    fs::copy_file(dir.path() / "live.sqlite", killed);
    fs::copy_file(dir.path() / "live.sqlite-wal", folder / "killed.sqlite-wal");
  }
  fs::permissions(folder, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(dir.path(), fs::perms::others_read | fs::perms::others_exec,
                  fs::perm_options::add);
  const std::string qdgen = QDGEN_BINARY;

  const auto exported = qdgen_test::run_shell(
      as_user_who_cannot_write(qdgen + " export " + closed.string() + " --what iterations"));
  EXPECT_EQ(exported.status, 0) << exported.output;
  EXPECT_EQ(std::count(exported.output.begin(), exported.output.end(), '\n'), 6) << exported.output;

  const auto resumed =
      qdgen_test::run_shell(as_user_who_cannot_write(qdgen + " run --resume " + killed.string()));
  EXPECT_EQ(resumed.status, 1);
  EXPECT_NE(resumed.output.find("qdgen run: " + killed.string() +
                                ": cannot resume here: its "
                                "folder " +
                                folder.string() + " must be writable (Permission denied"),
            std::string::npos)
      << resumed.output;

  const auto unreadable =
      qdgen_test::run_shell(as_user_who_cannot_write(qdgen + " export " + killed.string()));
  EXPECT_EQ(unreadable.status, 1);
  EXPECT_NE(unreadable.output.find(killed.string() + ": cannot read it here: its folder " +
                                   folder.string() +
                                   " is not writable and SQLite needs to create "
                                   "killed.sqlite-shm beside it to read the unfinished "
                                   "killed.sqlite-wal"),
            std::string::npos)
      << unreadable.output;
  EXPECT_FALSE(fs::exists(folder / "killed.sqlite-shm"));
  // Where the folder is writable, the same run reads (and the log is all there).
  const auto owner = qdgen_test::qdgen("export " + killed.string() + " --what iterations");
  EXPECT_EQ(owner.status, 0) << owner.output;
  EXPECT_EQ(std::count(owner.output.begin(), owner.output.end(), '\n'), 4) << owner.output;
}

}  // namespace
}  // namespace qdgen::store
