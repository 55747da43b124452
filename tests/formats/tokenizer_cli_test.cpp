// qdgen tokenize end to end: the real binary on real tokenizer files.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "run_process.hpp"

namespace {

const std::string kData = std::string(QDGEN_SHARED_DATA) + "/tokenizers/";

struct Result {
  int status;
  std::string output;  // stdout and stderr
};

Result run(const std::string& args, const std::string& input) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (std::string("qdgen_tokenize_cli.") + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto in_path = dir / "input.txt";
  std::ofstream(in_path, std::ios::binary) << input;
  const auto result = qdgen_test::qdgen("tokenize " + args + " < '" + in_path.string() + "'");
  return {result.status, result.output};
}

const std::string kLlama = "--tokenizer '" + kData + "llama2/tokenizer.json'";
const std::string kPhi = "--tokenizer '" + kData + "phi-2/tokenizer.json'";
const std::string kBin = "--tokenizer '" + kData + "llama2c/tokenizer.bin'";

TEST(TokenizeCommand, EncodesTextAndJsonlLines) {
  const Result r = run(kLlama, "Hello world\n{\"text\": \"Hello world\"}\n\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "15043 3186\n15043 3186\n\n");
  EXPECT_EQ(run(kPhi, "Hello world\n").output, "15496 995\n");
}

TEST(TokenizeCommand, ReadsLinesAsEveryCommandDoes) {
  // The one text reader: a byte-order mark and CRLF ends are not part of the text, and a plain
  // line that starts with '{' is a text.
  EXPECT_EQ(run(kLlama, "\xEF\xBB\xBFHello world\r\n").output, "15043 3186\n");
  EXPECT_EQ(run(kLlama, "{Hello\n").output,
            run(kLlama + " --input-format text", "{Hello\n").output);
  EXPECT_EQ(run(kLlama, "{Hello\n").status, 0);
  const auto folder = qdgen_test::qdgen("tokenize " + kLlama + " /tmp");
  EXPECT_EQ(folder.status, 1);
  EXPECT_NE(folder.output.find("/tmp: is a folder, expected a text file"), std::string::npos)
      << folder.output;
}

TEST(TokenizeCommand, AddsSpecialTokensAndPrintsJson) {
  const Result r = run(kBin + " --add-special-tokens --format json", "Hello world\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"ids\":[1,15043,3186],\"text\":\"Hello world\"}\n");
}

TEST(TokenizeCommand, DecodesSpaceSeparatedAndJsonIds) {
  const Result r = run(kLlama + " --decode", "1 15043 3186\n[15043, 3186]\n{\"ids\": [3186]}\n");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "Hello world\nHello world\nworld\n");
  EXPECT_EQ(run(kLlama + " --decode --keep-special-tokens", "1 15043\n").output, "<s> Hello\n");
}

TEST(TokenizeCommand, ReadsAnInputFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    (std::string("qdgen_tokenize_input.jsonl.") + std::to_string(::getpid()));
  std::ofstream(path) << "{\"text\": \"don't\"}\n";
  const Result r = run(kPhi + " '" + path.string() + "'", "");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "9099 470\n");
}

TEST(TokenizeCommand, BadInputIsOneLineAndExitStatusOne) {
  Result r = run(kLlama + " --decode", "1 x 2\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.output,
            "qdgen tokenize: stdin line 1: 'x' is not a token id (expected integers separated by "
            "spaces or a JSON array)\n");
  r = run(kLlama + " --decode", "5\n99999\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("stdin line 2: token id 99999 is outside the vocabulary"),
            std::string::npos)
      << r.output;
  r = run("--tokenizer /nonexistent/tokenizer.json", "x\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("/nonexistent/tokenizer.json: cannot open"), std::string::npos);
  r = run(kLlama + " --input-format jsonl", "plain text\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("stdin line 1: not a JSON object"), std::string::npos) << r.output;
  r = run(kLlama, "{\"txt\": 1}\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("without a string \"text\" key"), std::string::npos) << r.output;
}

TEST(TokenizeCommand, HelpTeachesWithAnExample) {
  const Result r = run("--help", "");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("Examples:"), std::string::npos);
  EXPECT_NE(r.output.find("--decode"), std::string::npos);
}

}  // namespace
