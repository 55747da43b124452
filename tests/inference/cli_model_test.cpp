// qdgen generate | score | embed end to end: the real binary on a random model written in
// the real formats, with the real Llama 2 tokenizer (tokenizer.json and tokenizer.bin).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "random_llama.hpp"
#include "run_process.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliRun {
  int status;
  std::string out;  // stdout and stderr together
};

CliRun run_qdgen(const std::string& arguments) {
  const auto result = qdgen_test::qdgen(arguments);
  return {result.status, result.output};
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

class ModelCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: ctest may run this suite's tests in parallel processes.
    directory_ = fs::temp_directory_path() / ("qdgen_model_cli_" + std::to_string(getpid()));
    fs::remove_all(directory_);
    auto config = testing::tiny_llama_config(false);
    config.vocab_size = 32000;  // the Llama 2 tokenizer's
    const auto files = testing::write_random_llama(directory_, config, 21);
    fs::copy_file(fs::path(QDGEN_SHARED_DATA) / "tokenizers/llama2/tokenizer.json",
                  files.hf_folder / "tokenizer.json");
    folder_ = files.hf_folder.string();
    bin_ = files.llama2c_file.string();
  }
  static void TearDownTestSuite() { fs::remove_all(directory_); }
  static inline fs::path directory_;
  static inline std::string folder_, bin_;
  const std::string tokenizer_bin_ =
      (fs::path(QDGEN_SHARED_DATA) / "tokenizers/llama2c/tokenizer.bin").string();
};

TEST_F(ModelCli, GenerateJsonIsSeededAndBatchIndependent) {
  const std::string base =
      "generate --model " + folder_ +
      " --prompt 'Once upon a time' --max-tokens 12 --temperature 3 --top-k 50 "
      "--format json";
  const CliRun three = run_qdgen(base + " -n 3 --seed 7");
  ASSERT_EQ(three.status, 0) << three.out;
  const auto samples = json_lines(three.out);
  ASSERT_EQ(samples.size(), 3u);
  for (const auto& sample : samples) {
    EXPECT_EQ(sample["token_ids"].size(), 12u);
    EXPECT_EQ(sample["finish_reason"], "length");
    EXPECT_EQ(sample["prompt_tokens"], 5);  // BOS + 4 pieces
    EXPECT_GT(sample["tokens_per_second"].template get<double>(), 0.0);
    EXPECT_TRUE(sample["text"].is_string());
  }
  // Sample 1 of three has seed 8: the same tokens as a lone run with seed 8.
  const CliRun alone = run_qdgen(base + " --seed 8");
  ASSERT_EQ(alone.status, 0) << alone.out;
  EXPECT_EQ(json_lines(alone.out)[0]["token_ids"], samples[1]["token_ids"]);
  EXPECT_EQ(json_lines(alone.out)[0]["text"], samples[1]["text"]);
}

TEST_F(ModelCli, GreedyTextIsTheSameFromTheFolderAndTheLlama2cFile) {
  const std::string rest = " --prompt 'The cat' --max-tokens 16 --temperature 0 --format json";
  const CliRun folder = run_qdgen("generate --model " + folder_ + rest);
  const CliRun bin =
      run_qdgen("generate --model " + bin_ + " --tokenizer " + tokenizer_bin_ + rest);
  ASSERT_EQ(folder.status, 0) << folder.out;
  ASSERT_EQ(bin.status, 0) << bin.out;
  const auto a = json_lines(folder.out)[0], b = json_lines(bin.out)[0];
  EXPECT_EQ(a["token_ids"], b["token_ids"]);
  const CliRun text = run_qdgen("generate --model " + folder_ +
                                " --prompt 'The cat' --max-tokens 16 --temperature 0");
  EXPECT_EQ(text.out, "The cat" + a["text"].get<std::string>() + "\n");
}

TEST_F(ModelCli, StopStringsEndTheTextBeforeThem) {
  const std::string base = "generate --model " + folder_ +
                           " --prompt 'The cat' --max-tokens 16 --temperature 0 --format json";
  const CliRun free_run = run_qdgen(base);
  ASSERT_EQ(free_run.status, 0) << free_run.out;
  const std::string text = json_lines(free_run.out)[0]["text"];
  ASSERT_GE(text.size(), 6u);
  const std::string stop = text.substr(3, 3);
  const CliRun stopped = run_qdgen(base + " --stop '" + stop + "'");
  ASSERT_EQ(stopped.status, 0) << stopped.out;
  const auto result = json_lines(stopped.out)[0];
  EXPECT_EQ(result["finish_reason"], "stop");
  EXPECT_EQ(result["text"], text.substr(0, text.find(stop)));
}

TEST_F(ModelCli, ScorePrintsOneLogProbabilityPerContinuation) {
  const CliRun run = run_qdgen("score --model " + folder_ +
                               " --prompt 'Is this good? Answer:' --continuation ' yes' "
                               "--continuation ' no' --continuation ' maybe later' --format json");
  ASSERT_EQ(run.status, 0) << run.out;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2]["continuation"], " maybe later");
  for (const auto& line : lines) EXPECT_LT(line["logprob"].template get<double>(), 0.0);
}

TEST_F(ModelCli, EmbedWritesUnitVectorsAsJsonLinesOrNpy) {
  const auto input = directory_ / "texts.txt";
  std::ofstream(input) << "a red fox\n\n{\"text\": \"a blue whale\"}\nthe third\n";
  const CliRun run = run_qdgen("embed --model " + folder_ + " " + input.string());
  ASSERT_EQ(run.status, 0) << run.out;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) {
    const auto vector = line["embedding"].get<std::vector<double>>();
    EXPECT_EQ(vector.size(), 32u);
    double norm = 0;
    for (double v : vector) norm += v * v;
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5);
  }
  const auto npy = directory_ / "vectors.npy";
  ASSERT_EQ(
      run_qdgen("embed --model " + folder_ + " " + input.string() + " -o " + npy.string()).status,
      0);
  std::ifstream file(npy, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), {});
  ASSERT_GT(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  const std::size_t header =
      10 + static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
  EXPECT_EQ(header % 64, 0u);
  EXPECT_NE(bytes.find("'shape': (3, 32)"), std::string::npos);
  ASSERT_EQ(bytes.size(), header + 3 * 32 * 4);
  float first;
  std::memcpy(&first, bytes.data() + header, sizeof first);
  EXPECT_NEAR(first, lines[0]["embedding"][0].template get<double>(), 1e-6);
}

TEST_F(ModelCli, BadInputGetsOneLineAndStatusOne) {
  const auto expect_error = [](const std::string& arguments, const std::string& part) {
    const CliRun run = run_qdgen(arguments);
    EXPECT_EQ(run.status, 1) << arguments;
    EXPECT_NE(run.out.find(part), std::string::npos) << run.out;
    EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1) << run.out;
  };
  expect_error("generate --model " + bin_ + " --prompt x",
               "qdgen generate: " + bin_ + ": a llama2.c checkpoint needs a tokenizer");
  expect_error("generate --model /nonexistent/folder --tokenizer " + tokenizer_bin_ + " --prompt x",
               "/nonexistent/folder: no such model");
  std::string long_prompt;
  for (int i = 0; i < 70; ++i) long_prompt += " word";
  expect_error("generate --model " + folder_ + " --prompt '" + long_prompt + "'",
               "more than the model's context of 64");
  expect_error("generate --model " + folder_ + " --prompt x --top-p 0",
               "request 0: top_p must be in (0, 1]");
  expect_error("generate --model " + folder_ + " --prompt x -n 0",
               "-n 0: expected an integer in [1, 1000000]");
  expect_error("generate --model " + folder_ + " --prompt x -n 2000000000",
               "-n 2000000000: expected an integer in [1, 1000000]");
  // Checked by the command line itself (CLI11: exit 105); it used to end in std::terminate
  // when the 100,000,000th thread could not start.
  const CliRun threads =
      run_qdgen("generate --model " + folder_ + " --prompt x --threads 100000000");
  EXPECT_EQ(threads.status, 105) << threads.out;
  EXPECT_NE(threads.out.find("--threads: Value 100000000 not in range 0 to 1024"),
            std::string::npos)
      << threads.out;
  expect_error("embed --model " + folder_ + " /nonexistent/texts.txt",
               "/nonexistent/texts.txt: cannot open");
  const auto bad_jsonl = directory_ / "bad.jsonl";
  std::ofstream(bad_jsonl) << "{\"txt\": 1}\n";
  expect_error("embed --model " + folder_ + " " + bad_jsonl.string(),
               bad_jsonl.string() + " line 1: JSON line without a string \"text\" key");
  expect_error("embed --model " + folder_ + " " + directory_.string(),
               directory_.string() + ": is a folder, expected a text file");
}

// embed reads texts as tokenize does (one reader): a CRLF copy of a file with a byte-order
// mark gives the same vectors (they were up to 0.08 apart), and a plain line that starts
// with '{' is a text, not bad JSON.
TEST_F(ModelCli, EmbedReadsCrlfBomAndBraceLinesAsTokenizeDoes) {
  const auto unix_file = directory_ / "texts_lf.txt";
  const auto dos_file = directory_ / "texts_crlf.txt";
  std::ofstream(unix_file, std::ios::binary) << "once upon a time\n{not json} is text\n\nthe end\n";
  std::ofstream(dos_file, std::ios::binary)
      << "\xEF\xBB\xBFonce upon a time\r\n{not json} is text\r\n\r\nthe end\r\n";
  const CliRun lf = run_qdgen("embed --model " + folder_ + " " + unix_file.string());
  const CliRun crlf = run_qdgen("embed --model " + folder_ + " " + dos_file.string());
  ASSERT_EQ(lf.status, 0) << lf.out;
  ASSERT_EQ(crlf.status, 0) << crlf.out;
  EXPECT_EQ(json_lines(lf.out).size(), 3u);  // the blank line is skipped
  EXPECT_EQ(lf.out, crlf.out);
}

}  // namespace
}  // namespace qdgen::inference
