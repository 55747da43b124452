// Commands that need no language model must not load libtorch: its symbol binding alone took
// 0.4 s of every command before the model moved into a module of its own.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "random_llama.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;

// The shared objects the dynamic loader opened while running `qdgen <arguments>`.
std::string libraries_loaded_by(const std::string& arguments) {
  // The loader logs to stderr, which run_shell captures; the command's stdout is dropped.
  return qdgen_test::run_shell("{ LD_DEBUG=libs " + std::string(QDGEN_BINARY) + " " + arguments +
                               " >/dev/null; }")
      .output;
}

bool loads_libtorch(const std::string& loader_log) {
  return loader_log.find("libtorch") != std::string::npos ||
         loader_log.find("libc10") != std::string::npos;
}

class Startup : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / ("qdgen_startup_" + std::to_string(getpid()));
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }
  fs::path directory_;
};

TEST_F(Startup, HelpMetricsExportAndTokenizerTrainingNeverLoadLibtorch) {
  const fs::path csv = directory_ / "three.csv";
  std::ofstream(csv) << "1,0\n0,1\n1,1\n";
  const fs::path corpus = directory_ / "corpus.txt";
  std::ofstream(corpus) << "the cat sat on the mat\n\nthe mat sat on the cat\n";
  const std::string train = "train tokenizer --data " + corpus.string() + " --vocab 300 --out " +
                            (directory_ / "tokenizer.json").string();
  // A numeric run never needs a model, so never loads the module.
  const std::string numeric_run = "run " + std::string(QDGEN_SOURCE_DIR) +
                                  "/experiments/demo-sphere-small.json --in-memory --iterations 2";
  for (const std::string& arguments :
       std::vector<std::string>{"--help", "metrics vendi " + csv.string(), "export --help",
                                "run --help", train, numeric_run}) {
    const std::string log = libraries_loaded_by(arguments);
    ASSERT_NE(log.find("calling init"), std::string::npos) << "LD_DEBUG gave no log: " << log;
    EXPECT_FALSE(loads_libtorch(log)) << "qdgen " << arguments << " loaded libtorch";
  }
}

#if QDGEN_TEST_WITH_TORCH
// The check above can fail: a model command does load libtorch, through the module.
TEST_F(Startup, AModelCommandLoadsLibtorchThroughTheModule) {
  auto config = qdgen::testing::tiny_llama_config();
  config.vocab_size = 32000;  // the Llama 2 tokenizer's
  const auto files = qdgen::testing::write_random_llama(directory_, config, 3);
  fs::copy_file(fs::path(QDGEN_SHARED_DATA) / "tokenizers/llama2/tokenizer.json",
                files.hf_folder / "tokenizer.json");
  const std::string log = libraries_loaded_by("generate --model " + files.hf_folder.string() +
                                              " --prompt Hi --max-tokens 2 --temperature 0");
  EXPECT_TRUE(loads_libtorch(log));
  EXPECT_NE(log.find("qdgen-embedded.so"), std::string::npos);
}
#endif

TEST_F(Startup, AMissingModuleIsOneLineNamingIt) {
  const auto result = qdgen_test::run_shell(
      "QDGEN_EMBEDDED_MODULE=" + (directory_ / "absent.so").string() + " " + QDGEN_BINARY +
      " generate --model " + directory_.string() + " --prompt Hi");
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("absent.so: the embedded-model module is missing"),
            std::string::npos)
      << result.output;
}

}  // namespace
