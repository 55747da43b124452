// Model folders: one model.safetensors, or shards listed by model.safetensors.index.json.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qdgen/inference/safetensors.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;

class ModelFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() /
              (std::string("qdgen_model_folder_") +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
               std::to_string(::getpid()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }

  // Each tensor holds `size` floats equal to `value`.
  void write_shard(const std::string& file,
                   const std::vector<std::pair<std::string, float>>& tensors) {
    std::vector<std::vector<float>> storage;
    std::vector<TensorToWrite> to_write;
    for (const auto& [name, value] : tensors) storage.emplace_back(3, value);
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      to_write.push_back(
          {tensors[i].first, DType::kF32, {3}, std::as_bytes(std::span<const float>(storage[i]))});
    }
    write_safetensors(folder_ / file, to_write);
  }
  void write_index(const nlohmann::json& weight_map) {
    std::ofstream(folder_ / "model.safetensors.index.json")
        << nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump(2);
  }
  std::string open_error() {
    try {
      SafetensorsModel::open_folder(folder_);
    } catch (const std::runtime_error& error) {
      return error.what();
    }
    return "(no error)";
  }
  static float first_value(const TensorView& view) {
    std::vector<float> out(static_cast<std::size_t>(view.numel()));
    convert_to_f32(view, out);
    return out.front();
  }

  fs::path folder_;
};

TEST_F(ModelFolder, OpensASingleModelFile) {
  write_shard("model.safetensors", {{"a", 1.0f}, {"b", 2.0f}});
  const auto model = SafetensorsModel::open_folder(folder_);
  EXPECT_EQ(model->names().size(), 2u);
  EXPECT_EQ(first_value(*model->find("b")), 2.0f);
  EXPECT_EQ(model->find("c"), nullptr);
}

TEST_F(ModelFolder, OpensShardsThroughTheIndexAndPrefersTheIndex) {
  write_shard("model-00001-of-00002.safetensors", {{"a", 1.0f}, {"b", 2.0f}});
  write_shard("model-00002-of-00002.safetensors", {{"c", 3.0f}});
  write_shard("model.safetensors", {{"stale", 9.0f}});  // an index wins, as in transformers
  write_index({{"a", "model-00001-of-00002.safetensors"},
               {"b", "model-00001-of-00002.safetensors"},
               {"c", "model-00002-of-00002.safetensors"}});
  const auto model = SafetensorsModel::open_folder(folder_);
  std::vector<std::string> names = model->names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(first_value(*model->find("a")), 1.0f);
  EXPECT_EQ(first_value(*model->find("c")), 3.0f);
  EXPECT_EQ(model->find("stale"), nullptr);
}

TEST_F(ModelFolder, MissingFilesAreClearErrors) {
  EXPECT_NE(open_error().find("neither model.safetensors nor model.safetensors.index.json"),
            std::string::npos);
  fs::remove_all(folder_);
  EXPECT_NE(open_error().find("not a model folder"), std::string::npos);
}

TEST_F(ModelFolder, MissingShardIsNamed) {
  write_shard("one.safetensors", {{"a", 1.0f}});
  write_index({{"a", "one.safetensors"}, {"b", "two.safetensors"}});
  EXPECT_NE(open_error().find("shard 'two.safetensors' (holding 'b') does not exist"),
            std::string::npos)
      << open_error();
}

TEST_F(ModelFolder, NameMappedToAShardThatLacksItIsNamed) {
  write_shard("one.safetensors", {{"a", 1.0f}});
  write_shard("two.safetensors", {{"b", 2.0f}});
  write_index({{"a", "one.safetensors"}, {"b", "one.safetensors"}});
  EXPECT_NE(open_error().find("weight_map puts 'b' in 'one.safetensors', which lacks it"),
            std::string::npos)
      << open_error();
}

TEST_F(ModelFolder, TensorInTwoShardsIsAnError) {
  write_shard("one.safetensors", {{"a", 1.0f}, {"b", 5.0f}});
  write_shard("two.safetensors", {{"b", 2.0f}});
  write_index({{"a", "one.safetensors"}, {"b", "two.safetensors"}});
  const std::string message = open_error();
  EXPECT_NE(message.find("tensor 'b' is also in"), std::string::npos) << message;
}

TEST_F(ModelFolder, MalformedIndexesAreClearErrors) {
  std::ofstream(folder_ / "model.safetensors.index.json") << "{\"weight_map\": ";
  EXPECT_NE(open_error().find("model.safetensors.index.json: weight_map: not valid JSON"),
            std::string::npos)
      << open_error();
  write_index(nlohmann::json::array());
  EXPECT_NE(open_error().find("weight_map: expected an object of tensor name: shard file, got []"),
            std::string::npos)
      << open_error();
  std::ofstream(folder_ / "model.safetensors.index.json") << "{}";
  EXPECT_NE(open_error().find("model.safetensors.index.json: weight_map: missing (required key)"),
            std::string::npos)
      << open_error();
  std::ofstream(folder_ / "model.safetensors.index.json") << "{\"weight_map\": {\"a\": 1e999}}";
  EXPECT_NE(open_error().find("weight_map.a: the number 1e999 does not fit a double"),
            std::string::npos)
      << open_error();
  write_index(nlohmann::json::object());
  EXPECT_NE(open_error().find("lists no tensors"), std::string::npos);
  write_index({{"a", 7}});
  EXPECT_NE(open_error().find("weight_map: 'a' maps to 7, expected a shard's file name"),
            std::string::npos)
      << open_error();
  write_index({{"a", "../elsewhere.safetensors"}});
  EXPECT_NE(open_error().find("expected a file name in the same folder"), std::string::npos);
}

TEST_F(ModelFolder, CorruptShardNamesTheShard) {
  std::ofstream(folder_ / "one.safetensors") << "short";
  write_index({{"a", "one.safetensors"}});
  const std::string message = open_error();
  EXPECT_NE(message.find("one.safetensors: file is 5 bytes"), std::string::npos) << message;
}

}  // namespace
}  // namespace qdgen::inference
