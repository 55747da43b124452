// Writing Hugging Face-layout tensors as a llama2.c (version 0) checkpoint that run.c reads.

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "llama2c_layout.hpp"
#include "qdgen/inference/llama2c.hpp"
#include "qdgen/io/atomic_file.hpp"

namespace qdgen::inference {

namespace {

std::int32_t as_int32(std::int64_t value, const char* key, const std::filesystem::path& path) {
  if (value > INT32_MAX) {
    throw std::runtime_error(path.string() + ": config key '" + key + "' = " +
                             std::to_string(value) + " does not fit llama2.c's int32 header");
  }
  return static_cast<std::int32_t>(value);
}

// run.c hard-codes what HF configs can vary; refuse what it would silently compute otherwise.
void check_representable(const LlamaConfig& config, const std::filesystem::path& path) {
  validate_llama_config(config, path.string());
  const auto fail = [&](const std::string& key, const std::string& what) {
    throw std::runtime_error(path.string() + ": config key '" + key + "': " + what +
                             "; llama2.c cannot represent it");
  };
  if (config.qkv_bias || config.attention_bias || config.mlp_bias) {
    fail(config.qkv_bias ? "attention_bias" : "mlp_bias", "the model has biases");
  }
  if (config.head_dim * config.num_attention_heads != config.hidden_size) {
    fail("head_dim", "head_dim * num_attention_heads differs from hidden_size");
  }
  if (config.rope_scaling) fail("rope_scaling", "rope scaling is set");
  if (config.rope_theta != llama2c::kRopeTheta) {
    fail("rope_theta", std::to_string(config.rope_theta) + " is not run.c's 10000");
  }
  if (config.rms_norm_eps != llama2c::kRmsNormEps) {
    fail("rms_norm_eps", std::to_string(config.rms_norm_eps) + " is not run.c's 1e-5");
  }
}

}  // namespace

void write_llama2c(const std::filesystem::path& path, const LlamaConfig& config,
                   const std::vector<OwnedTensor>& tensors) {
  check_representable(config, path);
  llama2c::Header header;
  header.dim = as_int32(config.hidden_size, "hidden_size", path);
  header.hidden_dim = as_int32(config.intermediate_size, "intermediate_size", path);
  header.n_layers = as_int32(config.num_hidden_layers, "num_hidden_layers", path);
  header.n_heads = as_int32(config.num_attention_heads, "num_attention_heads", path);
  header.n_kv_heads = as_int32(config.num_key_value_heads, "num_key_value_heads", path);
  header.vocab_size = as_int32(config.vocab_size, "vocab_size", path);
  if (!config.tie_word_embeddings) header.vocab_size = -header.vocab_size;
  header.seq_len = as_int32(config.max_position_embeddings, "max_position_embeddings", path);

  std::map<std::string, const OwnedTensor*> by_name;
  for (const OwnedTensor& tensor : tensors) by_name.emplace(tensor.name, &tensor);
  const auto fetch = [&](const std::string& name, std::int64_t rows, std::int64_t cols) {
    const auto it = by_name.find(name);
    if (it == by_name.end())
      throw std::runtime_error(path.string() + ": tensor '" + name + "' is missing");
    const std::vector<std::int64_t> shape =
        cols > 0 ? std::vector<std::int64_t>{rows, cols} : std::vector<std::int64_t>{rows};
    const std::size_t count = static_cast<std::size_t>(rows * std::max<std::int64_t>(cols, 1));
    if (it->second->shape != shape || it->second->data.size() != count) {
      throw std::runtime_error(path.string() + ": tensor '" + name + "' has the wrong shape for " +
                               "this config (expected " + std::to_string(rows) +
                               (cols > 0 ? " x " + std::to_string(cols) : "") + ")");
    }
    return it->second;
  };

  io::AtomicFileWriter writer(path);
  writer.write_values(std::span<const llama2c::Header>(&header, 1));
  const std::int64_t head_size = config.head_dim;
  std::vector<float> buffer;
  for (const llama2c::Section& section : llama2c::sections(header)) {
    if (section.rope_table) {
      // What legacy_export writes: cos (real) or sin (imag) of pos * theta^(-2i/head_size).
      const bool real = section.hf_name == "freq_cis_real";
      buffer.resize(static_cast<std::size_t>(section.rows * section.cols));
      for (std::int64_t pos = 0; pos < section.rows; ++pos) {
        for (std::int64_t i = 0; i < section.cols; ++i) {
          const double frequency = std::pow(llama2c::kRopeTheta, -2.0 * i / head_size);
          const double angle = static_cast<double>(pos) * frequency;
          buffer[static_cast<std::size_t>(pos * section.cols + i)] =
              static_cast<float>(real ? std::cos(angle) : std::sin(angle));
        }
      }
      writer.write_values(std::span<const float>(buffer));
      continue;
    }
    const std::int64_t repeats = section.per_layer ? config.num_hidden_layers : 1;
    for (std::int64_t layer = 0; layer < repeats; ++layer) {
      const OwnedTensor* tensor =
          fetch(llama2c::layer_name(section, layer), section.rows, section.cols);
      if (section.rope_heads > 0) {
        buffer.resize(tensor->data.size());
        llama2c::rows_hf_to_llama2c(tensor->data.data(), buffer.data(), section.rope_heads,
                                    head_size, section.cols);
        writer.write_values(std::span<const float>(buffer));
      } else {
        writer.write_values(std::span<const float>(tensor->data));
      }
    }
  }
  writer.commit();
}

}  // namespace qdgen::inference
