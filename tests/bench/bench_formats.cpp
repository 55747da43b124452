// Model file formats: how much opening and converting cost next to plainly reading the bytes.
// Baselines are measured in the same process on the same files:
//   - safetensors open (mmap + validated header) vs reading the whole file into memory,
//   - F16/BF16 -> F32 conversion vs memcpy of the same number of F32 values,
//   - read_llama2c (copy + q/k permutation) vs reading the whole file into memory.
// Usage: bench_formats [scratch folder, default /tmp]

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "qdgen/inference/llama2c.hpp"
#include "qdgen/inference/safetensors.hpp"

namespace fs = std::filesystem;
using namespace qdgen::inference;

namespace {

double best_seconds(int repeats, const std::function<void()>& work) {
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

std::size_t read_whole_file(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::vector<char> bytes(fs::file_size(path));
  stream.read(bytes.data(), static_cast<long>(bytes.size()));
  return bytes.size() + static_cast<std::size_t>(bytes[bytes.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path scratch =
      fs::path(argc > 1 ? argv[1] : "/tmp") / ("bench_formats_" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  std::mt19937 random(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);

  // A 200-tensor, 256 MiB BF16 file, shaped like a small model's layers.
  const std::size_t per_tensor = 640 * 1024;
  std::vector<std::vector<std::uint16_t>> storage(200, std::vector<std::uint16_t>(per_tensor));
  std::vector<TensorToWrite> tensors;
  for (std::size_t i = 0; i < storage.size(); ++i) {
    for (auto& value : storage[i]) value = f32_to_bf16(uniform(random));
    tensors.push_back({"model.layers." + std::to_string(i) + ".weight",
                       DType::kBF16,
                       {640, 1024},
                       std::as_bytes(std::span<const std::uint16_t>(storage[i]))});
  }
  const fs::path file = scratch / "model.safetensors";
  const double write_s = best_seconds(1, [&] { write_safetensors(file, tensors); });
  const double mib = static_cast<double>(fs::file_size(file)) / (1 << 20);
  std::printf("machine: %u hardware threads\n", std::thread::hardware_concurrency());
  std::printf("write_safetensors %.0f MiB: %.3f s (%.0f MiB/s, including fsync)\n", mib, write_s,
              mib / write_s);

  const double read_s = best_seconds(5, [&] { read_whole_file(file); });
  const double open_s = best_seconds(5, [&] {
    const auto opened = SafetensorsFile::open(file);
    if (opened->tensors().size() != 200) std::abort();
  });
  std::printf(
      "safetensors open (mmap, 200 tensors): %.3f ms; read whole file: %.1f ms; ratio %.0fx "
      "faster\n",
      open_s * 1e3, read_s * 1e3, read_s / open_s);

  const auto opened = SafetensorsFile::open(file);
  std::vector<float> out(per_tensor);
  const std::size_t elements = per_tensor * opened->tensors().size();
  const double bf16_s = best_seconds(3, [&] {
    for (const TensorView& view : opened->tensors()) convert_to_f32(view, out);
  });
  std::vector<float> f32_source(per_tensor, 1.0f);
  const double memcpy_s = best_seconds(3, [&] {
    for (std::size_t i = 0; i < opened->tensors().size(); ++i) {
      std::memcpy(out.data(), f32_source.data(), per_tensor * sizeof(float));
    }
  });
  std::vector<std::uint16_t> halves(per_tensor);
  for (auto& value : halves) value = f32_to_f16(uniform(random));
  const TensorView f16_view{"h",
                            DType::kF16,
                            {static_cast<std::int64_t>(per_tensor)},
                            std::as_bytes(std::span<const std::uint16_t>(halves))};
  const double f16_s = best_seconds(3, [&] {
    for (std::size_t i = 0; i < opened->tensors().size(); ++i) convert_to_f32(f16_view, out);
  });
  const double gelems = static_cast<double>(elements) / 1e9;
  std::printf(
      "convert to F32 (%zu M values): BF16 %.2f Gvalues/s, F16 %.2f Gvalues/s, "
      "F32 memcpy baseline %.2f Gvalues/s; ratios %.2f and %.2f of memcpy\n",
      elements / 1000000, gelems / bf16_s, gelems / f16_s, gelems / memcpy_s, memcpy_s / bf16_s,
      memcpy_s / f16_s);

  // llama2.c checkpoint of TinyStories-15M's shape (dim 288, 6 layers, 6 heads, vocab 32000).
  LlamaConfig config;
  config.vocab_size = 32000;
  config.hidden_size = 288;
  config.intermediate_size = 768;
  config.num_hidden_layers = 6;
  config.num_attention_heads = 6;
  config.num_key_value_heads = 6;
  config.head_dim = 48;
  config.max_position_embeddings = 256;
  config.tie_word_embeddings = true;
  std::vector<OwnedTensor> weights;
  for (const TensorSpec& spec : llama_tensor_specs(config)) {
    std::size_t count = 1;
    for (auto extent : spec.shape) count *= static_cast<std::size_t>(extent);
    OwnedTensor tensor{spec.name, spec.shape, std::vector<float>(count)};
    for (float& value : tensor.data) value = uniform(random) * 0.05f;
    weights.push_back(std::move(tensor));
  }
  const fs::path checkpoint = scratch / "stories15M.bin";
  write_llama2c(checkpoint, config, weights);
  const double ckpt_mib = static_cast<double>(fs::file_size(checkpoint)) / (1 << 20);
  const double raw_s = best_seconds(5, [&] { read_whole_file(checkpoint); });
  const double llama2c_s = best_seconds(5, [&] {
    if (read_llama2c(checkpoint).tensors.size() != weights.size()) std::abort();
  });
  std::printf(
      "read_llama2c %.0f MiB (TinyStories-15M shape): %.1f ms; read whole file: %.1f ms; "
      "ratio %.2f of the plain read\n",
      ckpt_mib, llama2c_s * 1e3, raw_s * 1e3, llama2c_s / raw_s);
  fs::remove_all(scratch);
  return 0;
}
