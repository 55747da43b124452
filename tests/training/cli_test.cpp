// qdgen train base | lora through the real binary: errors (one line each), Ctrl-C and
// SIGTERM (a checkpoint first, then a distinct exit status), resuming, and the outputs
// loading in qdgen generate.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "qdgen/inference/model_config.hpp"
#include "run_process.hpp"
#include "training_fixtures.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;
using qdgen_test::qdgen;
using qdgen_test::run_shell;

std::string quoted(const fs::path& path) {
  std::string text = "'";
  text.append(path.string()).append("'");
  return text;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class TrainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = std::make_unique<testing::ScratchFolder>("cli");
    tokenizer_ = testing::write_byte_tokenizer(scratch_->path() / "tokenizer");
    config_ =
        testing::write_config(scratch_->path() / "config.json", testing::tiny_training_config());
    std::vector<std::string> records;
    for (int i = 0; i < 40; ++i) {
      records.push_back("Record " + std::to_string(i) +
                        ": the quick brown fox jumps over the lazy dog.");
    }
    corpus_ = testing::write_text(scratch_->path() / "corpus", testing::fortune_file(records));
  }
  static void TearDownTestSuite() { scratch_.reset(); }

  static std::string base_command(const fs::path& out, const std::string& extra = "") {
    return "train base --model-config " + quoted(config_) + " --tokenizer " + quoted(tokenizer_) +
           " --data " + quoted(corpus_) + " --out " + quoted(out) +
           " --batch 2 --context 32 --threads 1 " + extra;
  }
  // A trained base for the commands that need one.
  static fs::path base_model() {
    static const fs::path folder = [] {
      const fs::path out = scratch_->path() / "base";
      const auto result = qdgen(base_command(out, "--steps 20"));
      EXPECT_EQ(result.status, 0) << result.output;
      return out;
    }();
    return folder;
  }

  static inline std::unique_ptr<testing::ScratchFolder> scratch_;
  static inline fs::path tokenizer_, config_, corpus_;
};

TEST_F(TrainCli, BaseWritesAFolderThatGenerateLoads) {
  const fs::path out = base_model();
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json",
                           "tokenizer_config.json", "generation_config.json"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }
  EXPECT_TRUE(fs::exists(out.string() + ".checkpoint/state.json"));
  const auto generated = qdgen("generate --model " + quoted(out) +
                               " --prompt 'Record 1' --max-tokens 8 --temperature 0 --format json");
  ASSERT_EQ(generated.status, 0) << generated.output;
  EXPECT_EQ(nlohmann::json::parse(generated.output)["generated_tokens"].get<int>() > 0, true);
}

TEST_F(TrainCli, ProgressIsPlainLinesWhenStderrIsNoTerminal) {
  const fs::path out = scratch_->path() / "progress";
  const auto result = run_shell("(" + std::string(QDGEN_BINARY) + " " +
                                base_command(out, "--steps 4 --eval-every 2 --format json") +
                                " 2>" + quoted(scratch_->path() / "progress.err") + ")");
  ASSERT_EQ(result.status, 0) << result.output;
  const std::string progress = read_all(scratch_->path() / "progress.err");
  EXPECT_NE(progress.find("step 2/4  loss "), std::string::npos) << progress;
  EXPECT_NE(progress.find(" tok/s  ETA "), std::string::npos) << progress;
  EXPECT_EQ(progress.find('\r'), std::string::npos);
  const auto summary = nlohmann::json::parse(result.output);
  EXPECT_EQ(summary["step"], 4);
  EXPECT_EQ(summary["finished"], true);
  EXPECT_TRUE(summary["heldout_loss"].is_number());
  EXPECT_TRUE(summary["initial_heldout_loss"].is_number());
  EXPECT_NE(progress.find("step 0/4  loss -  held-out "), std::string::npos) << progress;
}

TEST_F(TrainCli, LoraWritesAPeftAdapter) {
  const fs::path out = scratch_->path() / "adapter";
  const auto result =
      qdgen("train lora --model " + quoted(base_model()) + " --data " + quoted(corpus_) +
            " --out " + quoted(out) +
            " --r 4 --alpha 8 --rslora --targets q_proj,v_proj,down_proj --steps 3 --batch 2 "
            "--context 32 --threads 1");
  ASSERT_EQ(result.status, 0) << result.output;
  const auto config = nlohmann::json::parse(read_all(out / "adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["r"], 4);
  EXPECT_EQ(config["use_rslora"], true);
  EXPECT_EQ(config["target_modules"], (nlohmann::json{"down_proj", "q_proj", "v_proj"}));
  EXPECT_TRUE(fs::exists(out / "adapter_model.safetensors"));
}

TEST_F(TrainCli, CtrlCSavesACheckpointAndResumeContinuesFromIt) {
  const fs::path out = scratch_->path() / "stopped";
  const fs::path log = scratch_->path() / "stopped.log";
  // Runs qdgen in the background, waits for its first progress line, then sends `signal`.
  const auto run_and_signal = [&](const std::string& extra, const char* signal) {
    const std::string command =
        std::string(QDGEN_BINARY) + " " + base_command(out, "--steps 100000 " + extra) + " >" +
        quoted(log) + " 2>&1 & pid=$!; for i in $(seq 600); do grep -q 'step ' " + quoted(log) +
        " && break; sleep 0.05; done; kill -" + signal + " $pid; wait $pid; echo status=$?";
    return run_shell(command);
  };
  const auto stopped = run_and_signal("", "INT");
  const std::string first = read_all(log);
  EXPECT_NE(stopped.output.find("status=75"), std::string::npos) << stopped.output << first;
  EXPECT_NE(first.find("qdgen train base: stopped by SIGINT at step "), std::string::npos) << first;
  EXPECT_NE(first.find("Run the same command with --resume to continue."), std::string::npos);
  EXPECT_FALSE(fs::exists(out));
  const fs::path checkpoint = out.string() + ".checkpoint";
  const auto state = nlohmann::json::parse(read_all(checkpoint / "state.json"));
  const std::int64_t saved = state["step"].get<std::int64_t>();
  EXPECT_GT(saved, 0);

  // Without --resume the old checkpoint is not silently replaced.
  const auto refused = qdgen(base_command(out, "--steps 100000"));
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.output.find(checkpoint.string() +
                                ": a checkpoint of an earlier run is there (--resume continues it, "
                                "--overwrite starts over)"),
            std::string::npos)
      << refused.output;

  const auto resumed = run_and_signal("--resume", "TERM");
  const std::string second = read_all(log);
  EXPECT_NE(resumed.output.find("status=75"), std::string::npos) << resumed.output << second;
  EXPECT_NE(second.find("stopped by SIGTERM"), std::string::npos) << second;
  const auto again = nlohmann::json::parse(read_all(checkpoint / "state.json"));
  EXPECT_GT(again["step"].get<std::int64_t>(), saved);  // it went on from the saved step
}

// Every error: status 1 and one line naming what is at fault.
void expect_error(const qdgen_test::ProcessResult& result, const std::string& message) {
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_EQ(result.output, message + "\n");
}

TEST_F(TrainCli, NoDataIsAnError) {
  const fs::path empty = testing::write_text(scratch_->path() / "empty.txt", "\n\n%\n\n");
  expect_error(
      qdgen("train base --model-config " + quoted(config_) + " --tokenizer " + quoted(tokenizer_) +
            " --data " + quoted(empty) + " --out " + quoted(scratch_->path() / "none")),
      "qdgen train base: " + empty.string() +
          ": no documents in it (read as fortune; every record or line is blank)");
  const fs::path missing = scratch_->path() / "missing.txt";
  expect_error(
      qdgen("train base --model-config " + quoted(config_) + " --tokenizer " + quoted(tokenizer_) +
            " --data " + quoted(missing) + " --out " + quoted(scratch_->path() / "none")),
      "qdgen train base: " + missing.string() + ": no such file or folder");
}

TEST_F(TrainCli, CorpusSmallerThanOneContextIsAnError) {
  const fs::path small = testing::write_text(scratch_->path() / "small.txt", "Hello there.\n");
  expect_error(qdgen("train base --model-config " + quoted(config_) + " --tokenizer " +
                     quoted(tokenizer_) + " --data " + quoted(small) + " --out " +
                     quoted(scratch_->path() / "none") + " --context 64 --heldout 0"),
               "qdgen train base: " + small.string() +
                   ": the corpus is smaller than one context: 13 training tokens (1 documents), "
                   "a context needs 65 (give more data or a smaller --context)");
}

TEST_F(TrainCli, TokenizerLargerThanTheVocabularyIsAnError) {
  auto config = testing::tiny_training_config();
  config.vocab_size = 200;
  const fs::path small_config =
      testing::write_config(scratch_->path() / "small/config.json", config);
  expect_error(qdgen("train base --model-config " + quoted(small_config) + " --tokenizer " +
                     quoted(tokenizer_) + " --data " + quoted(corpus_) + " --out " +
                     quoted(scratch_->path() / "none")),
               "qdgen train base: " + tokenizer_.string() +
                   ": the tokenizer has 257 tokens, more than the vocab_size 200 of " +
                   small_config.string() + " (expected a vocab_size of at least 257)");
}

TEST_F(TrainCli, AnExistingOutputFolderIsAnErrorUnlessOverwritten) {
  const fs::path out = scratch_->path() / "exists";
  fs::create_directories(out);
  expect_error(qdgen(base_command(out, "--steps 2")),
               "qdgen train base: " + out.string() +
                   ": the output folder exists (use --overwrite to replace it)");
  expect_error(qdgen("train lora --model " + quoted(base_model()) + " --data " + quoted(corpus_) +
                     " --out " + quoted(out)),
               "qdgen train lora: " + out.string() +
                   ": the output folder exists (use --overwrite to replace it)");
  const auto replaced = qdgen(base_command(out, "--steps 2 --overwrite"));
  ASSERT_EQ(replaced.status, 0) << replaced.output;
  EXPECT_TRUE(fs::exists(out / "model.safetensors"));
}

TEST_F(TrainCli, UnknownLoraTargetIsAnError) {
  expect_error(qdgen("train lora --model " + quoted(base_model()) + " --data " + quoted(corpus_) +
                     " --out " + quoted(scratch_->path() / "none") + " --targets q_proj,lm_head"),
               "qdgen train lora: --targets lm_head: expected q_proj, k_proj, v_proj, o_proj, "
               "gate_proj, up_proj, down_proj, or all-linear alone");
}

}  // namespace
}  // namespace qdgen::inference
