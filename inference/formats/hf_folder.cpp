// Hugging Face model folders: opening with full shape checks, and writing.

#include "qdgen/inference/hf_folder.hpp"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "qdgen/io/atomic_file.hpp"

namespace qdgen::inference {

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  return text + "]";
}

const char* torch_dtype_of(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "float32";
    case DType::kF16:
      return "float16";
    case DType::kBF16:
      return "bfloat16";
    default:
      return nullptr;
  }
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  io::AtomicFileWriter writer(path);
  writer.write(std::as_bytes(std::span<const char>(text)));
  writer.commit();
}

}  // namespace

HfModelFolder open_hf_folder(const std::filesystem::path& folder) {
  HfModelFolder model;
  const std::filesystem::path config_path = folder / "config.json";
  if (!std::filesystem::exists(config_path)) {
    throw std::runtime_error(folder.string() +
                             ": no config.json (expected a Hugging Face model folder)");
  }
  model.config = read_llama_config(config_path);
  model.weights = SafetensorsModel::open_folder(folder);
  for (const TensorSpec& spec : llama_tensor_specs(model.config)) {
    const TensorView* tensor = model.weights->find(spec.name);
    if (tensor == nullptr) {
      throw std::runtime_error(folder.string() + ": tensor '" + spec.name +
                               "' is missing from the weights (config.json implies it)");
    }
    if (tensor->shape != spec.shape) {
      throw std::runtime_error(folder.string() + ": tensor '" + spec.name + "' has shape " +
                               shape_text(tensor->shape) + ", config.json implies " +
                               shape_text(spec.shape));
    }
    if (torch_dtype_of(tensor->dtype) == nullptr) {
      throw std::runtime_error(folder.string() + ": tensor '" + spec.name + "' has dtype " +
                               dtype_name(tensor->dtype) + ", expected F32, F16 or BF16");
    }
  }
  return model;
}

void write_hf_folder(const std::filesystem::path& folder, const LlamaConfig& config,
                     const std::vector<OwnedTensor>& tensors, DType dtype,
                     std::uint64_t max_shard_bytes) {
  const auto fail = [&](const std::string& what) {
    throw std::runtime_error(folder.string() + ": " + what);
  };
  if (torch_dtype_of(dtype) == nullptr) {
    fail(std::string("cannot write weights as ") + dtype_name(dtype) +
         " (expected F32, F16 or BF16)");
  }
  validate_llama_config(config, (folder / "config.json").string());

  std::map<std::string, const OwnedTensor*> by_name;
  for (const OwnedTensor& tensor : tensors) {
    if (!by_name.emplace(tensor.name, &tensor).second) {
      fail("tensor '" + tensor.name + "' given twice");
    }
  }
  const std::map<std::string, const OwnedTensor*> lookup = by_name;
  const std::vector<TensorSpec> specs = llama_tensor_specs(config);
  for (const TensorSpec& spec : specs) {
    const auto it = by_name.find(spec.name);
    if (it == by_name.end()) fail("tensor '" + spec.name + "' is missing");
    std::int64_t numel = 1;
    for (std::int64_t extent : spec.shape) numel *= extent;
    if (it->second->shape != spec.shape ||
        it->second->data.size() != static_cast<std::size_t>(numel)) {
      fail("tensor '" + spec.name + "' has shape " + shape_text(it->second->shape) + " and " +
           std::to_string(it->second->data.size()) + " values, the config implies " +
           shape_text(spec.shape));
    }
    by_name.erase(it);
  }
  if (!by_name.empty()) {  // what is left matches no spec
    fail("tensor '" + by_name.begin()->first + "' is not part of a " + config.architecture +
         " with this config");
  }
  std::filesystem::create_directories(folder);

  // Convert shard by shard, so at most one shard's converted bytes are held at once.
  std::vector<std::vector<const OwnedTensor*>> shards(1);
  std::uint64_t shard_bytes = 0;
  for (const TensorSpec& spec : specs) {
    const OwnedTensor* tensor = lookup.at(spec.name);
    const std::uint64_t bytes = tensor->data.size() * dtype_size(dtype);
    if (max_shard_bytes > 0 && !shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(tensor);
    shard_bytes += bytes;
  }

  const bool sharded = max_shard_bytes > 0 && shards.size() > 1;
  nlohmann::json weight_map = nlohmann::json::object();
  std::uint64_t total_size = 0;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    char shard_name[64];
    std::snprintf(shard_name, sizeof(shard_name), "model-%05zu-of-%05zu.safetensors", i + 1,
                  shards.size());
    const std::string file_name = sharded ? shard_name : "model.safetensors";
    std::vector<std::vector<std::byte>> converted;
    std::vector<TensorToWrite> to_write;
    for (const OwnedTensor* tensor : shards[i]) {
      converted.emplace_back(tensor->data.size() * dtype_size(dtype));
      convert_from_f32(tensor->data, dtype, converted.back());
      to_write.push_back({tensor->name, dtype, tensor->shape, converted.back()});
      weight_map[tensor->name] = file_name;
      total_size += converted.back().size();
    }
    write_safetensors(folder / file_name, to_write, {{"format", "pt"}});
  }
  // A stale file of the other layout would win or confuse: an index beats model.safetensors.
  if (sharded) {
    write_text_file(
        folder / "model.safetensors.index.json",
        nlohmann::json{{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}}.dump(
            2) +
            "\n");
    std::filesystem::remove(folder / "model.safetensors");
  } else {
    std::filesystem::remove(folder / "model.safetensors.index.json");
  }
  LlamaConfig written = config;
  written.torch_dtype = torch_dtype_of(dtype);
  write_text_file(folder / "config.json", to_json(written).dump(2) + "\n");
}

}  // namespace qdgen::inference
