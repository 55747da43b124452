// Writing safetensors files, laid out like the reference implementation: tensors sorted by
// name, contiguous, the header padded with spaces so that the data starts 8-byte aligned.

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>

#include "qdgen/inference/safetensors.hpp"
#include "qdgen/io/atomic_file.hpp"

namespace qdgen::inference {

void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
  const auto fail = [&](const std::string& name, const std::string& what) {
    throw std::runtime_error(path.string() + ": tensor '" + name + "': " + what);
  };
  std::vector<const TensorToWrite*> sorted;
  for (const TensorToWrite& tensor : tensors) sorted.push_back(&tensor);
  std::sort(sorted.begin(), sorted.end(),
            [](const TensorToWrite* a, const TensorToWrite* b) { return a->name < b->name; });

  // ordered_json keeps the reference implementation's key order, so files match byte for byte.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const TensorToWrite& tensor = *sorted[i];
    if (tensor.name == "__metadata__") fail(tensor.name, "the name is reserved for metadata");
    if (i > 0 && sorted[i - 1]->name == tensor.name) fail(tensor.name, "written twice");
    std::uint64_t numel = 1;
    for (std::int64_t extent : tensor.shape) {
      if (extent < 0) fail(tensor.name, "negative extent " + std::to_string(extent) + " in shape");
      numel *= static_cast<std::uint64_t>(extent);
    }
    const std::uint64_t byte_size = numel * dtype_size(tensor.dtype);
    if (byte_size != tensor.data.size()) {
      fail(tensor.name, "shape needs " + std::to_string(byte_size) + " bytes of " +
                            dtype_name(tensor.dtype) + ", data holds " +
                            std::to_string(tensor.data.size()));
    }
    header[tensor.name] = {{"dtype", dtype_name(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + byte_size}}};
    offset += byte_size;
  }

  std::string header_text = header.dump();
  header_text.append((8 - (8 + header_text.size()) % 8) % 8, ' ');
  const std::uint64_t header_size = header_text.size();

  io::AtomicFileWriter writer(path);
  writer.write_values(std::span<const std::uint64_t>(&header_size, 1));
  writer.write(std::as_bytes(std::span<const char>(header_text)));
  for (const TensorToWrite* tensor : sorted) writer.write(tensor->data);
  writer.commit();
}

}  // namespace qdgen::inference
