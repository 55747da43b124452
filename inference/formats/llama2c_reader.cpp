// Reading llama2.c checkpoints into Hugging Face names and layout.

#include <cstring>
#include <map>
#include <stdexcept>
#include <string>

#include "llama2c_layout.hpp"
#include "mapped_file.hpp"
#include "qdgen/inference/llama2c.hpp"

namespace qdgen::inference {

namespace {

constexpr std::int32_t kVersionedMagic = 0x616b3432;  // "ak42": export.py's version 1 and 2

std::string describe(const llama2c::Header& header) {
  return "dim=" + std::to_string(header.dim) + " hidden_dim=" + std::to_string(header.hidden_dim) +
         " n_layers=" + std::to_string(header.n_layers) +
         " n_heads=" + std::to_string(header.n_heads) +
         " n_kv_heads=" + std::to_string(header.n_kv_heads) +
         " vocab_size=" + std::to_string(header.vocab_size) +
         " seq_len=" + std::to_string(header.seq_len);
}

void check_header(const llama2c::Header& header, const std::filesystem::path& path) {
  const auto fail = [&](const std::string& what) {
    throw std::runtime_error(path.string() + ": llama2.c header (" + describe(header) +
                             "): " + what);
  };
  const std::pair<const char*, std::int32_t> positive[] = {
      {"dim", header.dim},         {"hidden_dim", header.hidden_dim}, {"n_layers", header.n_layers},
      {"n_heads", header.n_heads}, {"n_kv_heads", header.n_kv_heads}, {"seq_len", header.seq_len}};
  for (const auto& [key, value] : positive) {
    if (value <= 0) fail(std::string(key) + " must be positive");
  }
  if (header.vocab_size == 0 || header.vocab_size == INT32_MIN) {
    fail("vocab_size must be non-zero (negative marks an unshared classifier)");
  }
  if (header.dim % header.n_heads != 0) fail("n_heads does not divide dim");
  if (header.n_heads % header.n_kv_heads != 0) fail("n_kv_heads does not divide n_heads");
  if ((header.dim / header.n_heads) % 2 != 0) fail("head size dim/n_heads is odd");
}

// Sizes in floats, checked for overflow: a corrupt header must not wrap around to a size that
// happens to match the file.
std::uint64_t checked_floats(const std::vector<llama2c::Section>& sections,
                             const llama2c::Header& header, const std::filesystem::path& path) {
  const auto layers = static_cast<std::uint64_t>(header.n_layers);
  std::uint64_t total = 0;
  for (const llama2c::Section& section : sections) {
    std::uint64_t count = static_cast<std::uint64_t>(section.rows);
    bool overflow = section.cols > 0 &&
                    __builtin_mul_overflow(count, static_cast<std::uint64_t>(section.cols), &count);
    if (section.per_layer) {
      overflow = overflow || __builtin_mul_overflow(count, layers, &count);
    }
    overflow = overflow || __builtin_add_overflow(total, count, &total);
    if (overflow || total > (UINT64_MAX - 28) / 4) {
      throw std::runtime_error(path.string() + ": llama2.c header (" + describe(header) +
                               ") describes more than 2^64 bytes");
    }
  }
  return total;
}

}  // namespace

Llama2cCheckpoint read_llama2c(const std::filesystem::path& path) {
  const MappedFile file(path);
  const std::span<const std::byte> bytes = file.bytes();
  if (bytes.size() < llama2c::kHeaderBytes) {
    throw std::runtime_error(path.string() + ": file is " + std::to_string(bytes.size()) +
                             " bytes, shorter than the 28-byte llama2.c header");
  }
  llama2c::Header header;
  std::memcpy(&header, bytes.data(), llama2c::kHeaderBytes);
  if (header.dim == kVersionedMagic) {
    throw std::runtime_error(path.string() +
                             ": a llama2.c version 1/2 export (magic \"ak42\"); qdgen reads "
                             "version 0 (legacy_export, the format run.c reads)");
  }
  check_header(header, path);
  const std::vector<llama2c::Section> sections = llama2c::sections(header);
  const std::uint64_t floats = checked_floats(sections, header, path);
  const std::uint64_t expected_bytes = llama2c::kHeaderBytes + floats * sizeof(float);
  if (bytes.size() != expected_bytes) {
    throw std::runtime_error(path.string() + ": llama2.c header (" + describe(header) + ") needs " +
                             std::to_string(expected_bytes) + " bytes, the file has " +
                             std::to_string(bytes.size()) +
                             (bytes.size() < expected_bytes ? " (truncated?)" : ""));
  }

  Llama2cCheckpoint checkpoint;
  checkpoint.config = llama2c::config_of(header);
  const std::byte* cursor = bytes.data() + llama2c::kHeaderBytes;
  const std::int64_t head_size = header.dim / header.n_heads;
  for (const llama2c::Section& section : sections) {
    const std::int64_t count = section.rows * std::max<std::int64_t>(section.cols, 1);
    const std::int64_t repeats = section.per_layer ? header.n_layers : 1;
    if (section.rope_table) {  // run.c skips these and recomputes RoPE; so does qdgen
      cursor += static_cast<std::size_t>(count) * sizeof(float);
      continue;
    }
    for (std::int64_t layer = 0; layer < repeats; ++layer) {
      OwnedTensor tensor;
      tensor.name = llama2c::layer_name(section, layer);
      tensor.shape = section.cols > 0 ? std::vector<std::int64_t>{section.rows, section.cols}
                                      : std::vector<std::int64_t>{section.rows};
      tensor.data.resize(static_cast<std::size_t>(count));
      if (section.rope_heads > 0) {
        std::vector<float> raw(tensor.data.size());
        std::memcpy(raw.data(), cursor, raw.size() * sizeof(float));
        llama2c::rows_llama2c_to_hf(raw.data(), tensor.data.data(), section.rope_heads, head_size,
                                    section.cols);
      } else {
        std::memcpy(tensor.data.data(), cursor, tensor.data.size() * sizeof(float));
      }
      cursor += tensor.data.size() * sizeof(float);
      checkpoint.tensors.push_back(std::move(tensor));
    }
  }
  // Hand them out in llama_tensor_specs' order (layer by layer), not run.c's (array by array).
  std::map<std::string, OwnedTensor> by_name;
  for (OwnedTensor& tensor : checkpoint.tensors) by_name.emplace(tensor.name, std::move(tensor));
  checkpoint.tensors.clear();
  for (const TensorSpec& spec : llama_tensor_specs(checkpoint.config)) {
    checkpoint.tensors.push_back(std::move(by_name.at(spec.name)));
  }
  return checkpoint;
}

}  // namespace qdgen::inference
