// qdgen model merge: the written folder holds base + sum_i w_i * scale_i * B_i A_i in every
// adapted projection and the base weights elsewhere, with the base's tokenizer files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/lora_adapter.hpp"
#include "random_llama.hpp"
#include "random_lora.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
namespace testing = qdgen::testing;
namespace inference = qdgen::inference;

class ModelMerge : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("qdgen_merge_" +
                  std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                  "_" + std::to_string(getpid()));
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    config_ = testing::tiny_llama_config(false);
    files_ = testing::write_random_llama(directory_, config_, 7);
    std::ofstream(files_.hf_folder / "tokenizer.json") << "{\"stand-in\": true}";
    poems_ = testing::random_lora_adapter(
        config_, "poems", {inference::LoraTarget::kQ, inference::LoraTarget::kDown}, 4, 8, 11);
    science_ = testing::random_lora_adapter(config_, "science", {inference::LoraTarget::kQ}, 2, 4,
                                            12, true);
    inference::write_peft_adapter(directory_ / "poems", poems_);
    inference::write_peft_adapter(directory_ / "science", science_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::vector<float> merged_tensor(const fs::path& folder, const std::string& name) {
    const auto model = inference::open_hf_folder(folder);
    const inference::TensorView* view = model.weights->find(name);
    std::vector<float> values(view->numel());
    inference::convert_to_f32(*view, values);
    return values;
  }
  const std::vector<float>& base_tensor(const std::string& name) {
    for (const auto& t : files_.tensors)
      if (t.name == name) return t.data;
    throw std::runtime_error("no tensor " + name);
  }

  fs::path directory_;
  inference::LlamaConfig config_;
  testing::RandomLlamaFiles files_;
  inference::LoraAdapter poems_, science_;
};

TEST_F(ModelMerge, WritesBasePlusTheWeightedDeltas) {
  const fs::path out = directory_ / "merged";
  const auto result = qdgen_test::qdgen(
      "model merge --model " + files_.hf_folder.string() + " --adapter " +
      (directory_ / "poems").string() + " --adapter sci=" + (directory_ / "science").string() +
      " --mixture 0.5,-2 --out " + out.string() + " --format json");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("\"name\":\"sci\""), std::string::npos) << result.output;
  EXPECT_TRUE(fs::exists(out / "tokenizer.json"));

  const std::string q = "model.layers.1.self_attn.q_proj.weight";
  const auto merged = merged_tensor(out, q);
  const auto& base = base_tensor(q);
  const std::int64_t in = config_.hidden_size, rows = static_cast<std::int64_t>(base.size()) / in;
  const inference::LoraModule& p = poems_.modules[2];    // layer 1, q_proj
  const inference::LoraModule& s = science_.modules[1];  // layer 1, q_proj
  ASSERT_EQ(p.layer, 1);
  ASSERT_EQ(s.layer, 1);
  for (std::int64_t o = 0; o < rows; ++o) {
    for (std::int64_t k = 0; k < in; ++k) {
      double dp = 0, ds = 0;
      for (std::int64_t j = 0; j < p.rank; ++j) dp += double(p.b[o * p.rank + j]) * p.a[j * in + k];
      for (std::int64_t j = 0; j < s.rank; ++j) ds += double(s.b[o * s.rank + j]) * s.a[j * in + k];
      const double expected = base[o * in + k] + 0.5 * p.scale * dp - 2.0 * s.scale * ds;
      ASSERT_NEAR(merged[o * in + k], expected, 1e-5) << o << "," << k;
    }
  }
  // A projection no adapter touches is the base's, bit for bit.
  const std::string v = "model.layers.0.self_attn.v_proj.weight";
  EXPECT_EQ(merged_tensor(out, v), base_tensor(v));
}

TEST_F(ModelMerge, BadArgumentsAreOneLineAndWriteNothing) {
  const fs::path out = directory_ / "merged";
  const std::string base = "model merge --model " + files_.hf_folder.string() + " --adapter " +
                           (directory_ / "poems").string() + " --out " + out.string();
  auto result = qdgen_test::qdgen(base + " --mixture 1,2");
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("--mixture: 2 weights for 1 adapters"), std::string::npos)
      << result.output;
  result = qdgen_test::qdgen(base + " --mixture x");
  EXPECT_NE(result.output.find("--mixture: 'x' is not a finite number"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(out));

  fs::create_directories(out);
  result = qdgen_test::qdgen(base);
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("already exists (pass --overwrite to replace it)"),
            std::string::npos)
      << result.output;

  auto other = config_;
  other.hidden_size = 48;
  other.head_dim = 12;
  const auto wrong =
      testing::random_lora_adapter(other, "wrong", {inference::LoraTarget::kQ}, 2, 4, 3);
  inference::write_peft_adapter(directory_ / "wrong", wrong);
  result =
      qdgen_test::qdgen("model merge --model " + files_.hf_folder.string() + " --adapter " +
                        (directory_ / "wrong").string() + " --out " + (directory_ / "x").string());
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("has shape [2, 48], the base model and rank 2 imply [2, 32]"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(directory_ / "x"));
}

}  // namespace
