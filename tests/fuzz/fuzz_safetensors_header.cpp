// A safetensors file: header length, JSON header, dtypes, shapes and offsets are validated
// at open; then every tensor's bytes are converted as the model loaders do.

#include <vector>

#include "fuzz_support.hpp"
#include "qdgen/inference/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qdgen::fuzz::ScratchFolder folder;
  const auto file = folder.write("model.safetensors", qdgen::fuzz::as_text(data, size));
  qdgen::fuzz::expect_clean_failure_or_success([&] {
    const auto weights = qdgen::inference::SafetensorsFile::open(file);
    std::vector<float> values;
    for (const qdgen::inference::TensorView& tensor : weights->tensors()) {
      values.resize(static_cast<std::size_t>(tensor.numel()));
      qdgen::inference::convert_to_f32(tensor, values);
    }
  });
  return 0;
}
