// A model's weights across one or several safetensors files, found by tensor name.

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "qdgen/common/json_parse.hpp"
#include "qdgen/common/json_reader.hpp"
#include "qdgen/inference/safetensors.hpp"

namespace qdgen::inference {

namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

class ShardedModel final : public SafetensorsModel {
 public:
  const TensorView* find(const std::string& name) const override {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
  }
  std::vector<std::string> names() const override { return names_; }

  // Every tensor of every shard is indexed; a name found in two shards is an error because
  // which one a loader would pick is arbitrary.
  void add(std::unique_ptr<SafetensorsFile> shard) {
    for (const TensorView& tensor : shard->tensors()) {
      const auto [it, inserted] = index_.emplace(tensor.name, &tensor);
      if (!inserted) {
        throw std::runtime_error(shard->path().string() + ": tensor '" + tensor.name +
                                 "' is also in " + owner_of(tensor.name).string());
      }
      owners_.emplace(tensor.name, shards_.size());
      names_.push_back(tensor.name);
    }
    shards_.push_back(std::move(shard));
  }
  const std::filesystem::path& owner_of(const std::string& name) const {
    return shards_[owners_.at(name)]->path();
  }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::unordered_map<std::string, const TensorView*> index_;
  std::unordered_map<std::string, std::size_t> owners_;
  std::vector<std::string> names_;
};

std::unique_ptr<SafetensorsModel> open_sharded(const std::filesystem::path& folder) {
  const std::filesystem::path index_path = folder / kIndexFile;
  const nlohmann::json index = common::read_json_file(index_path, kIndexFile);
  const auto fail = [&](const std::string& what) {
    throw std::runtime_error(index_path.string() + ": " + what);
  };
  common::JsonReader reader(index, index_path.string());
  const common::JsonValue weight_map = reader.required("weight_map");
  if (!weight_map.json().is_object()) weight_map.expected("an object of tensor name: shard file");
  std::map<std::string, std::vector<std::string>> names_by_shard;
  for (const auto& [name, shard] : weight_map.json().items()) {
    if (!shard.is_string())
      weight_map.fail("'" + name + "' maps to " + common::describe_json(shard) +
                      ", expected a shard's file name");
    const std::filesystem::path shard_name = shard.get<std::string>();
    // Shards live beside the index; a path that leaves the folder is a corrupt or hostile index.
    if (shard_name.empty() || shard_name.has_parent_path() || shard_name == "." ||
        shard_name == "..") {
      weight_map.fail("'" + name + "' maps to '" + shard_name.string() +
                      "', expected a file name in the same folder");
    }
    names_by_shard[shard_name.string()].push_back(name);
  }
  if (names_by_shard.empty()) fail("\"weight_map\" lists no tensors");

  auto model = std::make_unique<ShardedModel>();
  for (const auto& [shard_name, names] : names_by_shard) {
    const std::filesystem::path shard_path = folder / shard_name;
    if (!std::filesystem::exists(shard_path)) {
      fail("shard '" + shard_name + "' (holding '" + names.front() + "') does not exist");
    }
    auto shard = SafetensorsFile::open(shard_path);
    for (const std::string& name : names) {
      if (shard->find(name) == nullptr) {
        fail("weight_map puts '" + name + "' in '" + shard_name + "', which lacks it");
      }
    }
    model->add(std::move(shard));
  }
  return model;
}

}  // namespace

std::unique_ptr<SafetensorsModel> SafetensorsModel::open_folder(
    const std::filesystem::path& folder) {
  if (!std::filesystem::is_directory(folder)) {
    throw std::runtime_error(folder.string() + ": not a model folder (no such directory)");
  }
  if (std::filesystem::exists(folder / kIndexFile)) return open_sharded(folder);
  if (std::filesystem::exists(folder / kSingleFile)) {
    auto model = std::make_unique<ShardedModel>();
    model->add(SafetensorsFile::open(folder / kSingleFile));
    return model;
  }
  throw std::runtime_error(folder.string() + ": neither " + kSingleFile + " nor " + kIndexFile +
                           " found");
}

}  // namespace qdgen::inference
