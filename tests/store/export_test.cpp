// qdgen export, end to end through the real binary.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "synthetic_run.hpp"

namespace qdgen::store {
namespace {

using archive::Elite;
using archive::testing::TempDir;
using testing::SyntheticRun;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int run_qdgen(const std::string& arguments, const TempDir& dir) {
  const std::string command = std::string(QDGEN_BINARY) + " " + arguments + " > " +
                              (dir / "stdout").string() + " 2> " + (dir / "stderr").string();
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  rows.pop_back();  // after the last CRLF
  return rows;
}

class Export : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = RunStore::create(run_file(), {{"name", "export"}}, 1);
    for (int i = 0; i < 3; ++i) {
      IterationRecord record = run.step();
      if (i == 0) {
        record.candidates[0].solution = std::string("he said \"hi\",\nthen left");
        record.timings = {{"evaluate", 0.25}};
      }
      store->commit(record);
      records.push_back(record);
    }
  }
  std::filesystem::path run_file() const { return dir / "run.sqlite"; }
  TempDir dir;
  SyntheticRun run{1};
  std::vector<IterationRecord> records;
};

TEST_F(Export, ElitesAsCsvHaveOneRowPerEliteWithMeasureColumns) {
  ASSERT_EQ(run_qdgen("export " + run_file().string() + " --what elites --format csv -o " +
                          (dir / "elites.csv").string(),
                      dir),
            0)
      << read_file(dir / "stderr");
  const auto rows = parse_csv(read_file(dir / "elites.csv"));
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(run.result.size()) + 1);
  const std::vector<std::string> header = {"cell",      "candidate_id", "iteration", "objective",
                                           "measure_0", "measure_1",    "operator",  "parent_ids",
                                           "solution",  "metadata"};
  EXPECT_EQ(rows[0], header);
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const Elite* elite = run.result.elite_in_cell(std::stoll(rows[r][0]));
    ASSERT_NE(elite, nullptr);
    EXPECT_EQ(std::stoll(rows[r][1]), elite->candidate.id);
    EXPECT_EQ(std::stod(rows[r][3]), elite->candidate.objective);
    EXPECT_EQ(std::stod(rows[r][4]), elite->candidate.measures[0]);
  }
}

TEST_F(Export, CandidatesQuoteTextsPerRfc4180AndJsonlKeepsTypes) {
  ASSERT_EQ(run_qdgen("export " + run_file().string() + " --what candidates", dir), 0);
  const auto rows = parse_csv(read_file(dir / "stdout"));
  ASSERT_EQ(rows.size(), 3 * SyntheticRun::kBatch + 1u);
  const auto solution_column =
      std::find(rows[0].begin(), rows[0].end(), "solution") - rows[0].begin();
  EXPECT_EQ(rows[1][static_cast<std::size_t>(solution_column)], "he said \"hi\",\nthen left");
  EXPECT_EQ(rows[2][static_cast<std::size_t>(solution_column)].front(), '[');  // numeric: JSON

  ASSERT_EQ(run_qdgen("export " + run_file().string() + " --what candidates --format jsonl", dir),
            0);
  std::istringstream lines(read_file(dir / "stdout"));
  std::string line;
  std::getline(lines, line);
  const auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["solution"], "he said \"hi\",\nthen left");
  EXPECT_EQ(first["measures"].size(), 2u);
  EXPECT_EQ(first["status"], static_cast<int>(records[0].add_results[0].status));
}

TEST_F(Export, IterationsFlattenMetricsAndTimings) {
  ASSERT_EQ(run_qdgen("export " + run_file().string() + " --what iterations", dir), 0);
  const auto rows = parse_csv(read_file(dir / "stdout"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_NE(std::find(rows[0].begin(), rows[0].end(), "qd_score"), rows[0].end());
  EXPECT_NE(std::find(rows[0].begin(), rows[0].end(), "time_evaluate"), rows[0].end());
}

TEST_F(Export, BadInputExitsOneWithAOneLineMessage) {
  std::ofstream(dir / "notes.txt") << "hello";
  EXPECT_EQ(run_qdgen("export " + (dir / "notes.txt").string(), dir), 1);
  EXPECT_NE(read_file(dir / "stderr")
                .find("qdgen export: " + (dir / "notes.txt").string() + ": not an SQLite database"),
            std::string::npos);
  EXPECT_EQ(read_file(dir / "notes.txt"), "hello");
  EXPECT_EQ(run_qdgen("export " + (dir / "nope.sqlite").string(), dir), 1);
  EXPECT_NE(read_file(dir / "stderr").find("no such run file"), std::string::npos);
  EXPECT_NE(run_qdgen("export " + run_file().string() + " --what everything", dir), 0);
  EXPECT_NE(read_file(dir / "stderr").find("--what"), std::string::npos);
}

}  // namespace
}  // namespace qdgen::store
