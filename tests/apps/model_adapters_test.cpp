// --adapter and --mixture on generate, score and embed: the adapters applied unmerged give what
// `qdgen model merge` of the same mixture gives, and JSON output names the adapters and
// weights used.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qdgen/inference/lora_adapter.hpp"
#include "random_llama.hpp"
#include "random_lora.hpp"
#include "run_process.hpp"

#if QDGEN_TEST_WITH_TORCH
namespace {

namespace fs = std::filesystem;
namespace testing = qdgen::testing;
namespace inference = qdgen::inference;
using nlohmann::json;

class ModelAdapters : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    directory_ = fs::temp_directory_path() / ("qdgen_model_adapters_" + std::to_string(getpid()));
    fs::remove_all(directory_);
    auto config = testing::tiny_llama_config(false);
    config.vocab_size = 32000;  // the Llama 2 tokenizer's
    const auto files = testing::write_random_llama(directory_, config, 21);
    fs::copy_file(fs::path(QDGEN_SHARED_DATA) / "tokenizers/llama2/tokenizer.json",
                  files.hf_folder / "tokenizer.json");
    base_ = files.hf_folder.string();
    // Large enough to change greedy tokens of the tiny model.
    inference::write_peft_adapter(
        directory_ / "poems",
        testing::random_lora_adapter(config, "poems", testing::all_lora_targets(), 4, 32.0, 11));
    inference::write_peft_adapter(
        directory_ / "science",
        testing::random_lora_adapter(config, "science",
                                     {inference::LoraTarget::kQ, inference::LoraTarget::kDown}, 2,
                                     16.0, 12, true));
    adapters_ = " --adapter " + (directory_ / "poems").string() +
                " --adapter sci=" + (directory_ / "science").string();
  }
  static void TearDownTestSuite() { fs::remove_all(directory_); }

  static std::vector<json> lines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }

  static inline fs::path directory_;
  static inline std::string base_, adapters_;
};

const std::string kGenerate =
    " --prompt 'Once upon a time' --max-tokens 12 --temperature 0 --format json --device cpu";

TEST_F(ModelAdapters, GenerateWithAMixtureEqualsTheMergedModel) {
  const auto unmerged =
      qdgen_test::qdgen("generate --model " + base_ + adapters_ + " --mixture 0.5,-2" + kGenerate);
  ASSERT_EQ(unmerged.status, 0) << unmerged.output;
  const fs::path merged = directory_ / "merged";
  const auto merge = qdgen_test::qdgen("model merge --model " + base_ + adapters_ +
                                       " --mixture 0.5,-2 --out " + merged.string());
  ASSERT_EQ(merge.status, 0) << merge.output;
  const auto from_merged = qdgen_test::qdgen("generate --model " + merged.string() + kGenerate);
  ASSERT_EQ(from_merged.status, 0) << from_merged.output;
  const auto base = qdgen_test::qdgen("generate --model " + base_ + kGenerate);
  ASSERT_EQ(base.status, 0) << base.output;

  const json a = lines(unmerged.output).at(0), b = lines(from_merged.output).at(0);
  EXPECT_EQ(a["token_ids"], b["token_ids"]);
  EXPECT_NE(a["token_ids"], lines(base.output).at(0)["token_ids"]);
  EXPECT_EQ(a["adapters"], json::parse(R"([{"name":"poems","weight":0.5},
                                          {"name":"sci","weight":-2.0}])"));
  EXPECT_FALSE(b.contains("adapters"));  // without adapters the output is as before
}

TEST_F(ModelAdapters, ScoreAndEmbedTakeTheMixtureAndNameIt) {
  const std::string score = " --prompt 'Once upon' --continuation ' a time' --format json";
  const auto with = qdgen_test::qdgen("score --model " + base_ + adapters_ + score);
  const auto without = qdgen_test::qdgen("score --model " + base_ + score);
  const auto zero =
      qdgen_test::qdgen("score --model " + base_ + adapters_ + " --mixture 0,0" + score);
  ASSERT_EQ(with.status, 0) << with.output;
  ASSERT_EQ(without.status, 0) << without.output;
  ASSERT_EQ(zero.status, 0) << zero.output;
  const json a = lines(with.output).at(0), b = lines(without.output).at(0);
  EXPECT_NE(a["logprob"], b["logprob"]);
  EXPECT_EQ(lines(zero.output).at(0)["logprob"], b["logprob"]);
  EXPECT_EQ(a["adapters"], json::parse(R"([{"name":"poems","weight":1.0},
                                          {"name":"sci","weight":1.0}])"));

  const fs::path input = directory_ / "texts.txt";
  std::ofstream(input) << "one small text\n";
  const auto embedded =
      qdgen_test::qdgen("embed --model " + base_ + adapters_ + " --mixture 1,0 " + input.string());
  ASSERT_EQ(embedded.status, 0) << embedded.output;
  EXPECT_EQ(lines(embedded.output).at(0)["adapters"],
            json::parse(R"([{"name":"poems","weight":1.0},{"name":"sci","weight":0.0}])"));
}

TEST_F(ModelAdapters, BadFlagsGetOneLine) {
  const auto expect_error = [&](const std::string& arguments, const std::string& message) {
    const auto run = qdgen_test::qdgen(arguments);
    EXPECT_EQ(run.status, 1) << arguments;
    EXPECT_NE(run.output.find(message), std::string::npos) << run.output;
  };
  expect_error("generate --model " + base_ + adapters_ + " --mixture 1" + kGenerate,
               "--mixture: 1 weights for 2 adapters (one per --adapter, in order)");
  expect_error("generate --model " + base_ + adapters_ + " --mixture 1,x" + kGenerate,
               "--mixture: 'x' is not a finite number");
  expect_error("generate --model " + base_ + " --mixture 1" + kGenerate,
               "--mixture: no --adapter to weigh");
  expect_error(
      "generate --model " + base_ + " --adapter " + (directory_ / "none").string() + kGenerate,
      (directory_ / "none").string());
}

}  // namespace
#endif
