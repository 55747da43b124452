// One writer per run: a second writer (a resume while a run or another resume writes) is
// refused up front with the holder's pid; a writer that dies, even by SIGKILL, leaves no
// stale lock; and readers never see "database is locked" while writers come and go.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

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

fs::path lock_file_of(const fs::path& run) {
  fs::path lock = run;
  lock += "-lock";
  return lock;
}

TEST(WriterLock, ASecondWriterInTheSameProcessIsRefusedWithThePid) {
  ScratchDirectory dir;
  const fs::path run = dir.path() / "c.sqlite";
  auto writer = RunStore::create(run, {}, 1);
  const std::string in_use =
      run.string() + " is in use by another qdgen process (pid " + std::to_string(::getpid()) + ")";
  EXPECT_EQ(error_of([&] { RunStore::open_for_resume(run); }), in_use);
  EXPECT_NO_THROW(RunReader reader(run));  // readers take no lock
  writer.reset();
  EXPECT_FALSE(fs::exists(lock_file_of(run)));  // a writer that closes removes its lock file
  auto resumed = RunStore::open_for_resume(run);
  EXPECT_EQ(error_of([&] { RunStore::open_for_resume(run); }), in_use);
  resumed.reset();
  EXPECT_NO_THROW(RunStore::open_for_resume(run));
}

TEST(WriterLock, AFailedCheckReleasesTheLock) {
  ScratchDirectory dir;
  const fs::path run = dir.path() / "done.sqlite";
  RunStore::create(run, {}, 1)->set_status(RunStatus::kFinished);
  EXPECT_EQ(error_of([&] { RunStore::open_for_resume(run); }),
            run.string() + ": the run is finished; nothing to resume");
  EXPECT_FALSE(fs::exists(lock_file_of(run)));
}

constexpr const char* kLongConfig = R"({
  "name": "lock", "domain": {"kind": "sphere", "dim": 4},
  "archive": {"type": "grid", "dims": [{"range": [-5, 5], "cells": 8}, {"range": [-5, 5], "cells": 8}]},
  "emitters": [{"kind": "gaussian", "batch": 8, "sigma": 0.1}],
  "iterations": 100000000, "seed": 3, "store": {"commit_seconds": 0}
})";

// Starts `qdgen <arguments>` in the background and returns its pid.
// Starts qdgen in the background; what it prints goes to `log`, for a failure's message.
pid_t start_qdgen(const std::string& arguments, const fs::path& log) {
  const auto started = qdgen_test::run_shell(std::string(QDGEN_BINARY) + " " + arguments + " > " +
                                             log.string() + " 2>&1 & echo $!");
  return static_cast<pid_t>(std::stol(started.output));
}

std::string contents_of(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool wait_for(const auto& condition, double seconds = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::int64_t last_iteration(const fs::path& run) {
  try {
    return RunReader(run).info().last_iteration.value_or(-1);
  } catch (const std::exception&) {
    return -1;
  }
}

TEST(WriterLock, TwoProcessesNeverWriteOneRunAndAKilledWriterLeavesNoStaleLock) {
  ScratchDirectory dir;
  const fs::path config = dir.write("long.json", kLongConfig);
  const fs::path run = dir.path() / "c.sqlite";
  const fs::path writer_log = dir.path() / "writer.log";
  const pid_t writer = start_qdgen("run " + config.string() + " --out " + run.string(), writer_log);
  ASSERT_TRUE(wait_for([&] { return last_iteration(run) >= 2; })) << contents_of(writer_log);

  // Resuming a run that is still writing.
  const std::string in_use = "qdgen run: " + run.string() +
                             " is in use by another qdgen process (pid " + std::to_string(writer) +
                             ")\n";
  const auto refused = qdgen_test::qdgen("run --resume " + run.string());
  EXPECT_EQ(refused.status, 1);
  EXPECT_EQ(refused.output, in_use);

  ::kill(writer, SIGKILL);
  // The kernel drops the lock with the process: the next resume writes on.
  const std::int64_t before = [&] {
    wait_for([&] {
      return ::kill(writer, 0) != 0 || qdgen_test::run_shell("grep -q '^State:.Z' /proc/" +
                                                             std::to_string(writer) + "/status")
                                               .status == 0;
    });
    return last_iteration(run);
  }();
  const fs::path first_log = dir.path() / "first.log";
  const pid_t first = start_qdgen("run --resume " + run.string(), first_log);
  ASSERT_TRUE(wait_for([&] { return last_iteration(run) > before + 2; }))
      << "last iteration before the resume: " << before << ", now " << last_iteration(run)
      << "; the resume printed: " << contents_of(first_log);
  // Two resumes at once: the second is refused, naming the first.
  const auto second = qdgen_test::qdgen("run --resume " + run.string());
  EXPECT_EQ(second.status, 1);
  EXPECT_EQ(second.output, "qdgen run: " + run.string() +
                               " is in use by another qdgen process (pid " + std::to_string(first) +
                               ")\n");
  ::kill(first, SIGKILL);
  EXPECT_TRUE(wait_for([&] {
    const auto again = qdgen_test::run_shell("timeout -s INT 1 " + std::string(QDGEN_BINARY) +
                                             " run --resume " + run.string());
    return again.output.find("in use") == std::string::npos;
  }));
}

// Readers poll a run while qdgen processes open it, write and close it, over and over: a
// reader may wait (every qdgen connection has a busy timeout) but never fails.
TEST(WriterLock, ReadersNeverSeeALockedDatabaseWhileWritersOpenWriteAndClose) {
  ScratchDirectory dir;
  const fs::path config = dir.write("long.json", kLongConfig);
  const fs::path run = dir.path() / "c.sqlite";
  const std::string qdgen = QDGEN_BINARY;
  ASSERT_EQ(qdgen_test::run_shell("timeout -s INT 0.3 " + qdgen + " run " + config.string() +
                                  " --out " + run.string() + " > /dev/null")
                .signal,
            0);
  const fs::path done = dir.path() / "done";
  // 30 writers in turn, each stopped by SIGINT after a tenth of a second (it commits and closes).
  const auto writers = qdgen_test::run_shell(
      "( for i in $(seq 30); do timeout -s INT 0.1 " + qdgen + " run --resume " + run.string() +
      " > /dev/null 2>&1; done; touch " + done.string() + " ) > /dev/null 2>&1 & echo started");
  ASSERT_EQ(writers.output, "started\n");
  int reads = 0, exports = 0;
  std::string failure;
  while (!fs::exists(done) && failure.empty()) {
    try {
      const RunReader reader(run);
      const RunReader::Snapshot snapshot(reader);
      reader.info();
      reader.for_each_iteration([](const IterationRow&) {});
      ++reads;
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (exports < reads / 4) {
      const auto exported = qdgen_test::qdgen("export " + run.string() + " --what iterations");
      if (exported.status != 0) failure = exported.output;
      ++exports;
    }
  }
  EXPECT_TRUE(wait_for([&] { return fs::exists(done); }, 60));  // the writers are done
  EXPECT_EQ(failure, "");
  EXPECT_GT(reads, 30);
  EXPECT_GT(exports, 5);
}

}  // namespace
}  // namespace qdgen::store
