#include "llama_weights.hpp"

#include <map>
#include <sstream>
#include <stdexcept>

#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/safetensors.hpp"

namespace qdgen::inference {
namespace {

std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

class Assembler {
 public:
  Assembler(const TensorSource& fetch, const std::string& source, at::Device device,
            at::ScalarType dtype)
      : fetch_(fetch), source_(source), device_(device), dtype_(dtype) {}

  at::Tensor required(const std::string& name, std::vector<std::int64_t> shape) {
    auto tensor = fetch_(name);
    if (!tensor) throw std::runtime_error(source_ + ": missing tensor '" + name + "'");
    return checked(name, *tensor, shape);
  }

  at::Tensor optional(const std::string& name, std::vector<std::int64_t> shape, bool wanted) {
    if (!wanted) return {};
    return required(name, std::move(shape));
  }

  at::Tensor to_target(const at::Tensor& tensor) const {
    // Always a copy: sources may be borrowed memory (a mapped file, a caller's vector).
    return tensor.to(device_, dtype_, /*non_blocking=*/false, /*copy=*/true).contiguous();
  }

 private:
  at::Tensor checked(const std::string& name, const at::Tensor& tensor,
                     const std::vector<std::int64_t>& shape) const {
    if (tensor.sizes() != at::IntArrayRef(shape)) {
      throw std::runtime_error(source_ + ": tensor '" + name + "' has shape " +
                               shape_text(tensor.sizes()) + ", expected " + shape_text(shape));
    }
    // An inf or NaN weight turns every logit into NaN: generation then gave token 0 forever,
    // score -nan and embed null vectors, all with exit 0. One pass over the weights at load.
    const at::Tensor finite = at::isfinite(tensor);
    if (!finite.all().item<bool>()) {
      const std::int64_t at = at::argmin(finite.reshape({-1}).to(at::kInt)).item<std::int64_t>();
      throw std::runtime_error(source_ + ": tensor '" + name + "' holds a non-finite value (" +
                               std::to_string(tensor.reshape({-1})[at].item<float>()) +
                               " at element " + std::to_string(at) +
                               "); the file is damaged or was saved from a diverged run");
    }
    return tensor;
  }

  const TensorSource& fetch_;
  const std::string& source_;
  at::Device device_;
  at::ScalarType dtype_;
};

at::Tensor cat_rows(std::initializer_list<at::Tensor> parts) {
  return at::cat(parts, 0);
}

}  // namespace

LlamaWeights assemble_llama_weights(const LlamaConfig& config, const TensorSource& fetch,
                                    const std::string& source, at::Device device,
                                    at::ScalarType dtype) {
  Assembler take(fetch, source, device, dtype);
  const std::int64_t d = config.hidden_size, f = config.intermediate_size;
  const std::int64_t hd = config.head_dim, q_rows = config.num_attention_heads * hd;
  const std::int64_t kv_rows = config.num_key_value_heads * hd, v = config.vocab_size;

  LlamaWeights weights;
  weights.config = config;
  const at::Tensor embedding = take.required("model.embed_tokens.weight", {v, d});
  weights.embedding = take.to_target(embedding);
  for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LlamaLayerWeights layer;
    layer.attention_norm = take.to_target(take.required(p + "input_layernorm.weight", {d}));
    layer.qkv =
        take.to_target(cat_rows({take.required(p + "self_attn.q_proj.weight", {q_rows, d}),
                                 take.required(p + "self_attn.k_proj.weight", {kv_rows, d}),
                                 take.required(p + "self_attn.v_proj.weight", {kv_rows, d})}));
    if (config.qkv_bias) {
      layer.qkv_bias =
          take.to_target(cat_rows({take.required(p + "self_attn.q_proj.bias", {q_rows}),
                                   take.required(p + "self_attn.k_proj.bias", {kv_rows}),
                                   take.required(p + "self_attn.v_proj.bias", {kv_rows})}));
    }
    layer.output = take.to_target(take.required(p + "self_attn.o_proj.weight", {d, q_rows}));
    if (config.attention_bias) {
      layer.output_bias = take.to_target(take.required(p + "self_attn.o_proj.bias", {d}));
    }
    layer.mlp_norm = take.to_target(take.required(p + "post_attention_layernorm.weight", {d}));
    layer.gate_up = take.to_target(cat_rows({take.required(p + "mlp.gate_proj.weight", {f, d}),
                                             take.required(p + "mlp.up_proj.weight", {f, d})}));
    layer.down = take.to_target(take.required(p + "mlp.down_proj.weight", {d, f}));
    if (config.mlp_bias) {
      layer.gate_up_bias = take.to_target(cat_rows({take.required(p + "mlp.gate_proj.bias", {f}),
                                                    take.required(p + "mlp.up_proj.bias", {f})}));
      layer.down_bias = take.to_target(take.required(p + "mlp.down_proj.bias", {d}));
    }
    weights.layers.push_back(std::move(layer));
  }
  weights.final_norm = take.to_target(take.required("model.norm.weight", {d}));
  weights.lm_head = config.tie_word_embeddings
                        ? weights.embedding
                        : take.to_target(take.required("lm_head.weight", {v, d}));
  return weights;
}

LlamaWeights load_hf_folder(const std::filesystem::path& folder, at::Device device,
                            at::ScalarType dtype) {
  const HfModelFolder opened = open_hf_folder(folder);
  const LlamaConfig& config = opened.config;
  const SafetensorsModel* model = opened.weights.get();
  const std::string source = folder.string();
  TensorSource fetch = [&](const std::string& name) -> std::optional<at::Tensor> {
    const TensorView* view = model->find(name);
    if (!view) return std::nullopt;
    if (view->dtype != DType::kF32 && view->dtype != DType::kF16 && view->dtype != DType::kBF16) {
      throw std::runtime_error(source + ": tensor '" + name + "' has dtype " +
                               dtype_name(view->dtype) + ", expected F32, F16 or BF16");
    }
    // The mapped bytes may be unaligned, so they are converted, never viewed as floats.
    at::Tensor tensor = at::empty(view->shape, at::kFloat);
    convert_to_f32(*view, std::span<float>(tensor.data_ptr<float>(),
                                           static_cast<std::size_t>(tensor.numel())));
    return tensor;
  };
  return assemble_llama_weights(config, fetch, source, device, dtype);
}

LlamaWeights weights_from_owned(const LlamaConfig& config, const std::vector<OwnedTensor>& tensors,
                                const std::string& source, at::Device device,
                                at::ScalarType dtype) {
  std::map<std::string, const OwnedTensor*> by_name;
  for (const auto& tensor : tensors) by_name[tensor.name] = &tensor;
  TensorSource fetch = [&](const std::string& name) -> std::optional<at::Tensor> {
    const auto found = by_name.find(name);
    if (found == by_name.end()) return std::nullopt;
    const OwnedTensor& tensor = *found->second;
    std::int64_t numel = 1;
    for (auto size : tensor.shape) numel *= size;
    if (numel != static_cast<std::int64_t>(tensor.data.size())) {
      throw std::runtime_error(source + ": tensor '" + name + "' holds " +
                               std::to_string(tensor.data.size()) + " values, its shape " +
                               shape_text(tensor.shape) + " needs " + std::to_string(numel));
    }
    return at::from_blob(const_cast<float*>(tensor.data.data()), tensor.shape, at::kFloat);
  };
  return assemble_llama_weights(config, fetch, source, device, dtype);
}

LlamaWeights load_llama2c_file(const std::filesystem::path& file, at::Device device,
                               at::ScalarType dtype) {
  const Llama2cCheckpoint checkpoint = read_llama2c(file);
  return weights_from_owned(checkpoint.config, checkpoint.tensors, file.string(), device, dtype);
}

}  // namespace qdgen::inference
