// qdgen train tokenizer end to end: the real binary on corpus files, the file it writes read
// back by qdgen tokenize, and each error with its message.

#include <gtest/gtest.h>

#include "run_process.hpp"
#include "scratch_directory.hpp"

namespace {

using qdgen_test::qdgen;
using qdgen_test::ScratchDirectory;

std::string quote(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}

class TrainTokenizerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string fortunes;
    std::string text;
    for (int i = 0; i < 300; ++i) {
      fortunes += "Fortune number " + std::to_string(i) + ": the cat sat on the mat.\n%\n";
      text += "A paragraph about tokenizers, " + std::to_string(i * 7) + " of them.\n\n";
    }
    fortunes_ = dir_.write("fortunes", fortunes);
    text_ = dir_.write("book.txt", text);
    jsonl_ = dir_.write("lines.jsonl", "{\"text\": \"the mat and the cat\"}\n");
  }
  std::string data() const {
    return "--data " + quote(fortunes_) + " " + quote(text_) + " " + quote(jsonl_);
  }
  ScratchDirectory dir_;
  std::filesystem::path fortunes_;
  std::filesystem::path text_;
  std::filesystem::path jsonl_;
};

TEST_F(TrainTokenizerCli, WritesATokenizerThatQdgenTokenizeReads) {
  const auto out = dir_.path() / "bpe" / "tokenizer.json";
  const auto result = qdgen("train tokenizer " + data() + " --vocab 400 --out " + quote(out));
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("counted "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("wrote " + out.string() +
                               ": 400 tokens (1 special, 256 bytes, 143 merged) from 601 "
                               "documents"),
            std::string::npos)
      << result.output;
  ASSERT_TRUE(std::filesystem::exists(out.parent_path() / "tokenizer_config.json"));

  const auto input = dir_.write("in.txt", "the cat sat on the mat.\n");
  const auto encoded =
      qdgen("tokenize --tokenizer " + quote(out) + " " + quote(input) + " 2>/dev/null");
  ASSERT_EQ(encoded.status, 0) << encoded.output;
  const auto ids = dir_.write("ids.txt", encoded.output);
  const auto decoded = qdgen("tokenize --decode --tokenizer " + quote(out) + " " + quote(ids));
  EXPECT_EQ(decoded.output, "the cat sat on the mat.\n");
}

TEST_F(TrainTokenizerCli, SameBytesWithOneOrTwoThreads) {
  const auto one = dir_.path() / "one" / "tokenizer.json";
  const auto two = dir_.path() / "two" / "tokenizer.json";
  ASSERT_EQ(
      qdgen("train tokenizer " + data() + " --vocab 400 --threads 1 --out " + quote(one)).status,
      0);
  ASSERT_EQ(
      qdgen("train tokenizer " + data() + " --vocab 400 --threads 2 --out " + quote(two)).status,
      0);
  EXPECT_EQ(dir_.read(one), dir_.read(two));
}

TEST_F(TrainTokenizerCli, SpecialTokensMinFrequencyAndFormat) {
  const auto out = dir_.path() / "tokenizer.json";
  const auto result = qdgen("train tokenizer --data " + quote(text_) +
                            " --format text --vocab 5000 --min-frequency 100 --special-token '<s>' "
                            "--special-token '</s>' --eos-token '</s>' --out " +
                            quote(out));
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find(": no further pair occurs --min-frequency 100 times"),
            std::string::npos)
      << result.output;
  const std::string config = dir_.read(dir_.path() / "tokenizer_config.json");
  EXPECT_NE(config.find("\"bos_token\": \"<s>\""), std::string::npos) << config;
  EXPECT_NE(config.find("\"eos_token\": \"</s>\""), std::string::npos) << config;
}

TEST_F(TrainTokenizerCli, RefusesAnExistingOutputUnlessOverwrite) {
  const auto out = dir_.write("tokenizer.json", "precious");
  auto result = qdgen("train tokenizer " + data() + " --vocab 300 --out " + quote(out));
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output, "qdgen train tokenizer: " + out.string() +
                               ": already exists (pass --overwrite to replace it)\n");
  EXPECT_EQ(dir_.read(out), "precious");
  result = qdgen("train tokenizer " + data() + " --vocab 300 --overwrite --out " + quote(out));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(dir_.read(out), "precious");
}

TEST_F(TrainTokenizerCli, MissingDataFile) {
  const auto missing = dir_.path() / "nope";
  const auto result = qdgen("train tokenizer --data " + quote(fortunes_) + " " + quote(missing) +
                            " --vocab 300 --out " + quote(dir_.path() / "t.json"));
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output, "qdgen train tokenizer: " + missing.string() +
                               ": cannot open: No such file or directory\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "t.json"));
}

TEST_F(TrainTokenizerCli, EmptyDataFile) {
  const auto empty = dir_.write("empty.txt", "");
  const auto result = qdgen("train tokenizer --data " + quote(empty) + " --vocab 300 --out " +
                            quote(dir_.path() / "t.json"));
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output, "qdgen train tokenizer: " + empty.string() +
                               ": empty file (expected text documents)\n");
}

TEST_F(TrainTokenizerCli, BadJsonlLine) {
  const auto bad = dir_.write("bad.jsonl", "{\"text\": 3}\n");
  const auto result = qdgen("train tokenizer --data " + quote(bad) + " --vocab 300 --out " +
                            quote(dir_.path() / "t.json"));
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output, "qdgen train tokenizer: " + bad.string() +
                               " line 1: JSON line without a string \"text\" key\n");
}

TEST_F(TrainTokenizerCli, VocabularyTooSmall) {
  const auto result =
      qdgen("train tokenizer " + data() + " --vocab 200 --out " + quote(dir_.path() / "t.json"));
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output,
            "qdgen train tokenizer: vocabulary size 200 is smaller than the 256 byte tokens plus 1 "
            "special token (257)\n");
}

TEST_F(TrainTokenizerCli, UnknownFormatAndMissingOptions) {
  auto result = qdgen("train tokenizer " + data() + " --vocab 300 --format csv --out " +
                      quote(dir_.path() / "t.json"));
  EXPECT_EQ(result.status, 105) << result.output;  // CLI11's validation error
  EXPECT_NE(result.output.find("--format: csv not in {auto,fortune,text,jsonl}"), std::string::npos)
      << result.output;
  result = qdgen("train tokenizer " + data() + " --out " + quote(dir_.path() / "t.json"));
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("--vocab is required"), std::string::npos) << result.output;
  result = qdgen("train");
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("A subcommand is required"), std::string::npos) << result.output;
}

}  // namespace
