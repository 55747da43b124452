// qdgen run as a user runs it: the real binary, real config files, real SQLite stores.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "run_process.hpp"
#include "sqlite_rows.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("qdgen_engine_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

fs::path write_config(const fs::path& dir, int iterations, const std::string& extra = "") {
  const fs::path path = dir / "exp.json";
  std::ofstream(path) << R"({
    "name": "small",
    "domain": {"kind": "sphere", "dim": 10},
    "archive": {"type": "grid", "dims": [{"range": [-25.6, 25.6], "cells": 15},
                                          {"range": [-25.6, 25.6], "cells": 15}]},
    "emitters": [{"kind": "gaussian", "count": 2, "batch": 10, "sigma": 0.5},
                 {"kind": "cma_es", "count": 2, "batch": 10, "sigma0": 0.5}],
    "iterations": )" << iterations
                      << extra << R"(, "seed": 5})";
  return path;
}

using qdgen_test::qdgen;
using qdgen_test::rows;
using Result = qdgen_test::ProcessResult;

const char* kCandidates =
    "SELECT candidate_id, iteration, batch_index, parent_ids, operator, solution, objective, "
    "measures, status, value, cell FROM candidate ORDER BY candidate_id";
const char* kIterations =
    "SELECT iteration, metrics, rng_state, engine_state FROM iteration ORDER BY iteration";
const char* kElites = "SELECT cell, candidate_id FROM elite ORDER BY cell";

}  // namespace

TEST(RunCommand, SameSeedGivesIdenticalStoresWithOneAndTwoThreads) {
  const fs::path dir = fresh_dir("threads");
  const fs::path config = write_config(dir, 15);
  ASSERT_EQ(
      qdgen("run " + config.string() + " --out " + (dir / "one.sqlite").string() + " --threads 1")
          .status,
      0);
  ASSERT_EQ(
      qdgen("run " + config.string() + " --out " + (dir / "two.sqlite").string() + " --threads 2")
          .status,
      0);
  EXPECT_EQ(rows(dir / "one.sqlite", kCandidates), rows(dir / "two.sqlite", kCandidates));
  EXPECT_EQ(rows(dir / "one.sqlite", kIterations), rows(dir / "two.sqlite", kIterations));
  EXPECT_EQ(rows(dir / "one.sqlite", kElites), rows(dir / "two.sqlite", kElites));
  EXPECT_EQ(rows(dir / "one.sqlite", kCandidates).size(), 15u * 40u);
  fs::remove_all(dir);
}

// Killed once a few iterations are committed: the resumed run ends with the archive and
// candidates of an uninterrupted one. store_extra sets how iterations are grouped into commits.
void expect_resume_after_sigkill(const std::string& name, const std::string& store_extra) {
  const fs::path dir = fresh_dir(name);
  const fs::path config = write_config(dir, 200, store_extra);
  const fs::path reference = dir / "reference.sqlite";
  ASSERT_EQ(qdgen("run " + config.string() + " --out " + reference.string()).status, 0);

  const fs::path killed = dir / "killed.sqlite";
  const pid_t child = fork();
  if (child == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(QDGEN_BINARY, QDGEN_BINARY, "run", config.c_str(), "--out", killed.c_str(), nullptr);
    _exit(127);
  }
  // Kill once a few iterations are committed, well before the end.
  for (int i = 0;
       i < 400 && !(fs::exists(killed) && rows(killed, "SELECT 1 FROM iteration").size() >= 20);
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  const auto committed = rows(killed, "SELECT 1 FROM iteration").size();
  EXPECT_LT(committed, 200u);

  const Result resumed = qdgen("run --resume " + killed.string());
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(rows(killed, kElites), rows(reference, kElites));
  EXPECT_EQ(rows(killed, kCandidates), rows(reference, kCandidates));
  EXPECT_EQ(rows(killed, "SELECT status FROM run"), std::vector<std::string>{"finished|"});
  fs::remove_all(dir);
}

TEST(RunCommand, ResumeAfterSigkillEndsWithTheUninterruptedArchive) {
  expect_resume_after_sigkill("sigkill", R"(, "store": {"commit_seconds": 0})");
}

// Iterations committed in groups (a crash loses the open group): the same guarantee.
TEST(RunCommand, ResumeAfterSigkillWithGroupedCommitsEndsWithTheUninterruptedArchive) {
  expect_resume_after_sigkill("sigkill_grouped", R"(, "store": {"commit_seconds": 0.02})");
}

TEST(RunCommand, SigtermStopsAfterTheIterationAndTheRunResumes) {
  const fs::path dir = fresh_dir("sigterm");
  const fs::path config = write_config(dir, 100000);
  const fs::path store = dir / "run.sqlite";
  const pid_t child = fork();
  if (child == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(QDGEN_BINARY, QDGEN_BINARY, "run", config.c_str(), "--out", store.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0;
       i < 400 && !(fs::exists(store) && rows(store, "SELECT 1 FROM iteration").size() >= 5); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);  // stopped, not finished: 143, as a shell says
  EXPECT_EQ(rows(store, "SELECT status FROM run"), std::vector<std::string>{"running|"});

  // Resuming checks a given config against the run's own.
  const fs::path other = write_config(dir, 99999);
  const Result differs = qdgen("run " + other.string() + " --resume " + store.string());
  EXPECT_EQ(differs.status, 1);
  EXPECT_NE(differs.output.find("differs from the run's own config"), std::string::npos)
      << differs.output;
  fs::remove_all(dir);
}

TEST(RunCommand, FinishedRunsRefuseToResume) {
  const fs::path dir = fresh_dir("refuse");
  const fs::path config = write_config(dir, 3);
  const fs::path store = dir / "run.sqlite";
  ASSERT_EQ(qdgen("run " + config.string() + " --out " + store.string()).status, 0);
  const Result finished = qdgen("run --resume " + store.string());
  EXPECT_EQ(finished.status, 1);
  EXPECT_NE(finished.output.find("qdgen run: "), std::string::npos) << finished.output;
  EXPECT_NE(finished.output.find("finished"), std::string::npos) << finished.output;
  fs::remove_all(dir);
}

TEST(RunCommand, BadInputIsOneLineNamingTheProblem) {
  const Result missing = qdgen("run /nonexistent/exp.json");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(
      missing.output,
      "qdgen run: /nonexistent/exp.json: cannot open the config file (missing or unreadable)\n");

  const fs::path dir = fresh_dir("bad");
  const fs::path config = write_config(dir, 3, R"(, "emitter": [])");
  const Result unknown = qdgen("run " + config.string());
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.output.find("emitter: unknown key"), std::string::npos) << unknown.output;

  const fs::path good = write_config(dir, 3);
  const fs::path store = dir / "run.sqlite";
  ASSERT_EQ(qdgen("run " + good.string() + " --out " + store.string()).status, 0);
  const Result exists = qdgen("run " + good.string() + " --out " + store.string());
  EXPECT_EQ(exists.status, 1) << exists.output;

  const Result not_sqlite = qdgen("run --resume " + good.string());
  EXPECT_EQ(not_sqlite.status, 1);
  fs::remove_all(dir);
}

TEST(RunCommand, OutOfRangeIntegersStopTheRunBeforeTheStoreExists) {
  const fs::path dir = fresh_dir("ranges");
  const fs::path store = dir / "run.sqlite";
  // 2^32 + 2 once ran as dim 2.
  const fs::path config = write_config(dir, 3);
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string dim = "\"dim\": 10";
  text.replace(text.find(dim), dim.size(), "\"dim\": 4294967298");
  std::ofstream(config) << text;
  const Result wide = qdgen("run " + config.string() + " --out " + store.string());
  EXPECT_EQ(wide.status, 1);
  EXPECT_EQ(wide.output, "qdgen run: " + config.string() +
                             ": domain.dim: expected an integer in [2, 1000000], got 4294967298\n");
  EXPECT_FALSE(fs::exists(store));

  const fs::path good = write_config(dir, 3);
  const Result threads = qdgen("run " + good.string() + " --in-memory --threads 5000");
  EXPECT_NE(threads.status, 0) << threads.output;  // a command-line error, as CLI11 reports it
  EXPECT_NE(threads.output.find("--threads: Value 5000 not in range 0 to 1024"), std::string::npos)
      << threads.output;
  fs::remove_all(dir);
}

TEST(RunCommand, JsonSummaryReportsTheFinalArchive) {
  const fs::path dir = fresh_dir("json");
  const fs::path config = write_config(dir, 5);
  const Result r = qdgen("run " + config.string() + " --in-memory --format json");
  ASSERT_EQ(r.status, 0) << r.output;
  const json summary = json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(summary["iterations"], 5);
  EXPECT_EQ(summary["evaluations"], 200);
  EXPECT_EQ(summary["finished"], true);
  EXPECT_GT(summary["qd_score"].get<double>(), 0.0);
  EXPECT_TRUE(summary["store"].is_null());
  fs::remove_all(dir);
}
