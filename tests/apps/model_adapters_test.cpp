// --adapter, --mixture, --mixture-file and --mixture-from on generate, score and embed: the
// adapters applied unmerged give what `qdgen model merge` of the same mixture gives, a file's
// weights (one per adapter or one per layer) are the mixture's, a mixture from a position on
// leaves the tokens before it to the base, and JSON output names the adapters and weights used.
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

  static std::string mixture_file(const std::string& name, const std::string& content) {
    const fs::path path = directory_ / name;
    std::ofstream(path) << content;
    return " --mixture-file " + path.string();
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

TEST_F(ModelAdapters, AMixtureFileGivesOneWeightOrAWeightPerLayer) {
  const auto flags =
      qdgen_test::qdgen("generate --model " + base_ + adapters_ + " --mixture 0.5,-2" + kGenerate);
  const auto plain =
      qdgen_test::qdgen("generate --model " + base_ + adapters_ +
                        mixture_file("plain.json", R"({"sci": -2, "poems": 0.5})") + kGenerate);
  // The tiny model has two layers: the same weight in both is the plain weight.
  const auto layers = qdgen_test::qdgen(
      "generate --model " + base_ + adapters_ +
      mixture_file("layers.json", R"({"poems": [0.5, 0.5], "sci": -2})") + kGenerate);
  ASSERT_EQ(flags.status, 0) << flags.output;
  ASSERT_EQ(plain.status, 0) << plain.output;
  ASSERT_EQ(layers.status, 0) << layers.output;
  const json a = lines(flags.output).at(0), b = lines(plain.output).at(0),
             c = lines(layers.output).at(0);
  EXPECT_EQ(a["token_ids"], b["token_ids"]);
  EXPECT_EQ(a["token_ids"], c["token_ids"]);
  EXPECT_EQ(b["adapters"], a["adapters"]);  // in --adapter order
  EXPECT_EQ(c["adapters"], json::parse(R"([{"name":"sci","weight":-2.0},
                                          {"name":"poems","layer_weights":[0.5,0.5]}])"));
  EXPECT_FALSE(c.contains("mixture_from"));
}

TEST_F(ModelAdapters, MixtureFromLeavesThePositionsBeforeItToTheBase) {
  const auto base = qdgen_test::qdgen("generate --model " + base_ + kGenerate);
  // No position of the 12 generated tokens reaches 60: the base model's tokens.
  const auto late =
      qdgen_test::qdgen("generate --model " + base_ + adapters_ + " --mixture-from 60" + kGenerate);
  ASSERT_EQ(base.status, 0) << base.output;
  ASSERT_EQ(late.status, 0) << late.output;
  EXPECT_EQ(lines(late.output).at(0)["token_ids"], lines(base.output).at(0)["token_ids"]);
  EXPECT_EQ(lines(late.output).at(0)["mixture_from"], 60);

  const std::string score = " --prompt 'Once upon' --continuation ' a time' --format json";
  const auto peft = qdgen_test::qdgen("score --model " + base_ + adapters_ + score);
  const auto zero =
      qdgen_test::qdgen("score --model " + base_ + adapters_ + " --mixture-from 0" + score);
  const auto activated =
      qdgen_test::qdgen("score --model " + base_ + adapters_ + " --mixture-from prompt" + score);
  const auto plain = qdgen_test::qdgen("score --model " + base_ + score);
  ASSERT_EQ(peft.status, 0) << peft.output;
  ASSERT_EQ(zero.status, 0) << zero.output;
  ASSERT_EQ(activated.status, 0) << activated.output;
  ASSERT_EQ(plain.status, 0) << plain.output;
  const json p = lines(peft.output).at(0), a = lines(activated.output).at(0);
  EXPECT_EQ(lines(zero.output).at(0), p);  // 0 is the default: every position, as PEFT
  EXPECT_NE(a["logprob"], p["logprob"]);
  EXPECT_NE(a["logprob"], lines(plain.output).at(0)["logprob"]);
  EXPECT_EQ(a["mixture_from"], "prompt");
  EXPECT_EQ(a["adapters"], p["adapters"]);
}

TEST_F(ModelAdapters, BadMixtureFilesAndPositionsGetOneLine) {
  const auto expect_error = [&](const std::string& arguments, const std::string& message) {
    const auto run = qdgen_test::qdgen(arguments);
    EXPECT_EQ(run.status, 1) << arguments;
    EXPECT_NE(run.output.find(message), std::string::npos) << run.output;
  };
  const std::string generate = "generate --model " + base_ + adapters_;
  expect_error(
      generate + mixture_file("three.json", R"({"poems": [1, 2, 3], "sci": 1})") + kGenerate,
      "request 0: the LoRA mixture gives adapter 'poems' 3 layer weights; expected one "
      "per layer, 2");
  const std::string unknown =
      mixture_file("unknown.json", R"({"poetry": 1, "poems": 1, "sci": 1})");
  expect_error(generate + unknown + kGenerate,
               "--mixture-file " + (directory_ / "unknown.json").string() +
                   ": adapter 'poetry' is not among the --adapter names (poems, sci)");
  expect_error(
      generate + mixture_file("huge.json", R"({"poems": [1, 1e999], "sci": 1})") + kGenerate,
      "the number 1e999 does not fit a double");
  expect_error(generate + mixture_file("text.json", R"({"poems": 1, "sci": "much"})") + kGenerate,
               "adapter 'sci': expected a number or a list of numbers, one per layer");
  expect_error(generate + mixture_file("missing.json", R"({"poems": 1})") + kGenerate,
               "no weight for adapter 'sci' (every --adapter needs one; 0 leaves it out)");
  expect_error(generate + " --mixture 1,1" +
                   mixture_file("both.json", R"({"poems": 1, "sci": 1})") + kGenerate,
               "--mixture and --mixture-file: give one of them");
  expect_error(generate + " --mixture-from -3" + kGenerate,
               "--mixture-from: '-3' is neither a token position (an integer >= 0) nor 'prompt'");
  expect_error("generate --model " + base_ + " --mixture-from 2" + kGenerate,
               "--mixture-from: no --adapter to weigh");
  const fs::path input = directory_ / "embed_texts.txt";
  std::ofstream(input) << "one small text\n";
  expect_error("embed --model " + base_ + adapters_ + " --mixture-from prompt " + input.string(),
               "--mixture-from prompt: embed reads texts, not prompts; give a position");
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
