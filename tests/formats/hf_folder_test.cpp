// Hugging Face model folders written by qdgen: config.json + weights, single or sharded, in
// F32/F16/BF16, and the checks open_hf_folder makes on folders from elsewhere.

#include "qdgen/inference/hf_folder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "random_llama.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;

class HfFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("qdgen_hf_folder_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<float> values_of(const TensorView& view) {
    std::vector<float> values(static_cast<std::size_t>(view.numel()));
    convert_to_f32(view, values);
    return values;
  }
  std::string open_error() {
    try {
      open_hf_folder(dir_);
    } catch (const std::runtime_error& error) {
      return error.what();
    }
    return "(no error)";
  }

  fs::path dir_;
};

TEST_F(HfFolder, HalfPrecisionWritesRoundEachWeightOnce) {
  const LlamaConfig config = testing::tiny_llama_config();
  const auto tensors = testing::random_llama_tensors(config, 5);
  for (const DType dtype : {DType::kF16, DType::kBF16}) {
    write_hf_folder(dir_, config, tensors, dtype);
    const HfModelFolder folder = open_hf_folder(dir_);
    EXPECT_EQ(folder.config.torch_dtype, dtype == DType::kF16 ? "float16" : "bfloat16");
    for (const OwnedTensor& expected : tensors) {
      const TensorView* view = folder.weights->find(expected.name);
      ASSERT_NE(view, nullptr);
      EXPECT_EQ(view->dtype, dtype);
      const std::vector<float> values = values_of(*view);
      for (std::size_t i = 0; i < values.size(); ++i) {
        const float rounded = dtype == DType::kF16 ? f16_to_f32(f32_to_f16(expected.data[i]))
                                                   : bf16_to_f32(f32_to_bf16(expected.data[i]));
        ASSERT_EQ(values[i], rounded) << expected.name << " element " << i;
      }
    }
  }
}

TEST_F(HfFolder, ConfigJsonIsWhatTransformersReads) {
  LlamaConfig config = testing::tiny_llama_config(false);
  write_hf_folder(dir_, config, testing::random_llama_tensors(config, 1));
  std::ifstream stream(dir_ / "config.json");
  const nlohmann::json written = nlohmann::json::parse(stream);
  EXPECT_EQ(written["architectures"], nlohmann::json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(written["model_type"], "llama");
  EXPECT_EQ(written["num_key_value_heads"], 2);
  EXPECT_EQ(written["tie_word_embeddings"], false);
  EXPECT_EQ(written["hidden_act"], "silu");
  EXPECT_EQ(written["torch_dtype"], "float32");
  EXPECT_TRUE(written["rope_scaling"].is_null());
  EXPECT_EQ(open_hf_folder(dir_).config, config);
  // transformers refuses safetensors files without this metadata.
  EXPECT_EQ(SafetensorsFile::open(dir_ / "model.safetensors")->metadata().at("format"), "pt");
}

TEST_F(HfFolder, ShardsWhenOverTheSizeAndReplacesTheOtherLayout) {
  LlamaConfig config = testing::tiny_llama_config();
  config.architecture = "Qwen2ForCausalLM";
  config.qkv_bias = true;
  const auto tensors = testing::random_llama_tensors(config, 9);
  write_hf_folder(dir_, config, tensors);  // single file first: the sharded write must win
  write_hf_folder(dir_, config, tensors, DType::kF32, 16 * 1024);
  EXPECT_FALSE(fs::exists(dir_ / "model.safetensors"));
  std::ifstream stream(dir_ / "model.safetensors.index.json");
  const nlohmann::json index = nlohmann::json::parse(stream);
  std::set<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items())
    shards.insert(shard.get<std::string>());
  EXPECT_GT(shards.size(), 1u);
  std::uint64_t total = 0;
  for (const std::string& shard : shards) {
    EXPECT_NE(shard.find("-of-"), std::string::npos);
    const auto file = SafetensorsFile::open(dir_ / shard);
    std::uint64_t bytes = 0;
    for (const TensorView& view : file->tensors()) bytes += view.data.size();
    EXPECT_TRUE(bytes <= 16 * 1024 || file->tensors().size() == 1) << shard;
    total += bytes;
  }
  EXPECT_EQ(index["metadata"]["total_size"], total);

  const HfModelFolder folder = open_hf_folder(dir_);
  EXPECT_TRUE(folder.config.qkv_bias);
  EXPECT_EQ(folder.weights->names().size(), tensors.size());
  for (const OwnedTensor& expected : tensors) {
    EXPECT_EQ(values_of(*folder.weights->find(expected.name)), expected.data) << expected.name;
  }
  write_hf_folder(dir_, config, tensors);  // and back to one file: the stale index must go
  EXPECT_FALSE(fs::exists(dir_ / "model.safetensors.index.json"));
  EXPECT_EQ(open_hf_folder(dir_).weights->names().size(), tensors.size());
}

TEST_F(HfFolder, WriterRejectsTensorsThatDoNotMatchTheConfig) {
  const LlamaConfig config = testing::tiny_llama_config();
  const auto tensors = testing::random_llama_tensors(config, 2);
  const auto write_error = [&](const std::vector<OwnedTensor>& t, DType dtype = DType::kF32) {
    try {
      write_hf_folder(dir_ / "out", config, t, dtype);
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("(no error)");
  };
  auto missing = tensors;
  missing.pop_back();
  EXPECT_NE(write_error(missing).find("tensor 'model.norm.weight' is missing"), std::string::npos);
  auto misshapen = tensors;
  misshapen[1].shape = {16};
  EXPECT_NE(
      write_error(misshapen).find("tensor 'model.layers.0.input_layernorm.weight' has shape [16]"),
      std::string::npos);
  auto extra = tensors;
  extra.push_back({"lm_head.weight", {64, 32}, std::vector<float>(64 * 32)});
  EXPECT_NE(write_error(extra).find("tensor 'lm_head.weight' is not part of a LlamaForCausalLM"),
            std::string::npos);
  auto twice = tensors;
  twice.push_back(tensors[0]);
  EXPECT_NE(write_error(twice).find("given twice"), std::string::npos);
  EXPECT_NE(write_error(tensors, DType::kI32).find("cannot write weights as I32"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(HfFolder, OpenChecksEveryTensorTheConfigImplies) {
  LlamaConfig config = testing::tiny_llama_config();
  const auto tensors = testing::random_llama_tensors(config, 4);
  EXPECT_NE(open_error().find("no config.json"), std::string::npos);

  // Weights written for a different config: a missing tensor, then a wrong shape.
  write_hf_folder(dir_, config, tensors);
  nlohmann::json bigger = to_json(config);
  bigger["num_hidden_layers"] = 3;
  std::ofstream(dir_ / "config.json") << bigger.dump();
  EXPECT_NE(open_error().find("tensor 'model.layers.2.input_layernorm.weight' is missing"),
            std::string::npos);
  nlohmann::json wider = to_json(config);
  wider["intermediate_size"] = 40;
  std::ofstream(dir_ / "config.json") << wider.dump();
  EXPECT_NE(open_error().find("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [48, 32], "
                              "config.json implies [40, 32]"),
            std::string::npos)
      << open_error();

  // An integer tensor where a weight should be.
  std::vector<TensorToWrite> to_write;
  std::vector<std::int32_t> ints(64 * 32);
  for (const OwnedTensor& t : tensors) {
    if (t.name == "model.embed_tokens.weight") {
      to_write.push_back(
          {t.name, DType::kI32, t.shape, std::as_bytes(std::span<const std::int32_t>(ints))});
    } else {
      to_write.push_back(
          {t.name, DType::kF32, t.shape, std::as_bytes(std::span<const float>(t.data))});
    }
  }
  write_safetensors(dir_ / "model.safetensors", to_write);
  std::ofstream(dir_ / "config.json") << to_json(config).dump();
  EXPECT_NE(open_error().find(
                "tensor 'model.embed_tokens.weight' has dtype I32, expected F32, F16 or BF16"),
            std::string::npos);
}

TEST_F(HfFolder, TiedModelMayCarryAnUnusedLmHead) {
  const LlamaConfig config = testing::tiny_llama_config(true);
  const auto tensors = testing::random_llama_tensors(config, 4);
  std::vector<TensorToWrite> to_write;
  for (const OwnedTensor& t : tensors) {
    to_write.push_back(
        {t.name, DType::kF32, t.shape, std::as_bytes(std::span<const float>(t.data))});
  }
  to_write.push_back({"lm_head.weight", DType::kF32, tensors[0].shape, to_write[0].data});
  write_safetensors(dir_ / "model.safetensors", to_write);
  std::ofstream(dir_ / "config.json") << to_json(config).dump();
  EXPECT_NO_THROW(open_hf_folder(dir_));
}

}  // namespace
}  // namespace qdgen::inference
