// PEFT LoRA adapter folders: reading with every check against the base model, writing in
// PEFT's own layout, and merging into base weights.

#include "qdgen/inference/lora_adapter.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include "qdgen/inference/safetensors.hpp"
#include "qdgen/io/atomic_file.hpp"
#include "unicode_icu.hpp"

namespace qdgen::inference {
namespace {

using nlohmann::json;

constexpr std::array<LoraTarget, kLoraTargets> kAllTargets = {
    LoraTarget::kQ,    LoraTarget::kK,  LoraTarget::kV,   LoraTarget::kO,
    LoraTarget::kGate, LoraTarget::kUp, LoraTarget::kDown};

// PEFT saves tensors under the wrapped model's names, without the adapter name.
constexpr const char* kTensorPrefix = "base_model.model.";

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  return text + "]";
}

// The module's name inside the base model, as named_modules() gives it.
std::string module_name(std::int64_t layer, LoraTarget target) {
  return "model.layers." + std::to_string(layer) + "." + lora_target_path(target);
}

class AdapterConfig {
 public:
  AdapterConfig(const std::filesystem::path& folder, const LlamaConfig& base)
      : folder_(folder), base_(base) {
    const auto path = folder / "adapter_config.json";
    std::ifstream in(path);
    if (!in) fail("no adapter_config.json (expected a PEFT LoRA adapter folder)");
    json_ = json::parse(in, nullptr, false);
    if (json_.is_discarded() || !json_.is_object()) {
      fail("adapter_config.json is not a JSON object");
    }
    const std::string type = string_or("peft_type", "");
    if (type != "LORA") {
      fail("adapter_config.json: peft_type: expected \"LORA\", got " +
           (json_.contains("peft_type") ? json_["peft_type"].dump() : std::string("nothing")));
    }
    if (bool_or("use_dora", false)) {
      fail("adapter_config.json: use_dora: DoRA adapters are not supported (plain LoRA only)");
    }
    if (bool_or("fan_in_fan_out", false)) {
      fail(
          "adapter_config.json: fan_in_fan_out: true is for GPT-2 style Conv1D layers, which "
          "Llama models do not have");
    }
    const std::string bias = string_or("bias", "none");
    if (bias != "none") {
      fail("adapter_config.json: bias: expected \"none\", got \"" + bias +
           "\" (adapters with bias terms are not supported)");
    }
    if (json_.contains("modules_to_save") && !json_["modules_to_save"].is_null() &&
        !(json_["modules_to_save"].is_array() && json_["modules_to_save"].empty())) {
      fail(
          "adapter_config.json: modules_to_save: fully trained modules are not supported "
          "(LoRA modules only)");
    }
    r_ = positive_integer("r", 8);
    alpha_ = number_or("lora_alpha", 8.0);
    rslora_ = bool_or("use_rslora", false);
    read_patterns("rank_pattern", rank_pattern_, true);
    read_patterns("alpha_pattern", alpha_pattern_, false);
    read_layers();
    read_targets();
  }

  std::int64_t r() const { return r_; }
  double alpha() const { return alpha_; }
  bool rslora() const { return rslora_; }
  std::string base_model() const { return string_or("base_model_name_or_path", ""); }

  // Whether PEFT's config puts a LoRA module on this projection of this layer.
  bool targets(std::int64_t layer, LoraTarget target) const {
    if (layers_ && !layers_->contains(layer)) return false;
    const std::string name = module_name(layer, target);
    if (all_linear_) return true;
    if (target_regex_) return target_regex_->matches(name);
    for (const std::string& t : target_list_) {
      if (name == t || name.ends_with("." + t)) return true;
    }
    return false;
  }

  std::int64_t rank_of(const std::string& module) const {
    const auto found = pattern_value(rank_pattern_, module);
    return found ? static_cast<std::int64_t>(*found) : r_;
  }
  double alpha_of(const std::string& module) const {
    return pattern_value(alpha_pattern_, module).value_or(alpha_);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(folder_.string() + ": " + what);
  }

 private:
  std::string string_or(const std::string& key, const std::string& fallback) const {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    if (!json_[key].is_string()) {
      fail("adapter_config.json: " + key + ": expected a string, got " + json_[key].dump());
    }
    return json_[key].get<std::string>();
  }
  bool bool_or(const std::string& key, bool fallback) const {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    if (!json_[key].is_boolean()) {
      fail("adapter_config.json: " + key + ": expected true or false, got " + json_[key].dump());
    }
    return json_[key].get<bool>();
  }
  double number_or(const std::string& key, double fallback) const {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    if (!json_[key].is_number() || !std::isfinite(json_[key].get<double>())) {
      fail("adapter_config.json: " + key + ": expected a finite number, got " + json_[key].dump());
    }
    return json_[key].get<double>();
  }
  std::int64_t positive_integer(const std::string& key, std::int64_t fallback) const {
    if (!json_.contains(key) || json_[key].is_null()) return fallback;
    const json& v = json_[key];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 65536) {
      fail("adapter_config.json: " + key + ": expected an integer in [1, 65536], got " + v.dump());
    }
    return v.get<std::int64_t>();
  }

  void read_patterns(const std::string& key, std::vector<std::pair<unicode::Regex, double>>& out,
                     bool integer) {
    if (!json_.contains(key) || json_[key].is_null()) return;
    const json& patterns = json_[key];
    if (!patterns.is_object()) {
      fail("adapter_config.json: " + key + ": expected an object of module patterns");
    }
    for (const auto& [pattern, value] : patterns.items()) {
      const bool valid = integer ? value.is_number_integer() && value.get<std::int64_t>() >= 1 &&
                                       value.get<std::int64_t>() <= 65536
                                 : value.is_number() && std::isfinite(value.get<double>());
      if (!valid) {
        fail("adapter_config.json: " + key + "." + pattern + ": expected " +
             (integer ? "an integer in [1, 65536]" : "a finite number") + ", got " + value.dump());
      }
      // PEFT matches a pattern against the whole module name or a suffix after a dot.
      out.emplace_back(compile(key + "." + pattern, "(.*\\.)?(" + pattern + ")"),
                       value.get<double>());
    }
  }

  std::optional<double> pattern_value(const std::vector<std::pair<unicode::Regex, double>>& in,
                                      const std::string& module) const {
    for (const auto& [regex, value] : in) {
      if (regex.matches(module)) return value;
    }
    return std::nullopt;
  }

  unicode::Regex compile(const std::string& where, const std::string& pattern) const {
    try {
      return unicode::Regex(pattern);
    } catch (const std::invalid_argument& e) {
      fail("adapter_config.json: " + where + ": not a valid regular expression (" + e.what() + ")");
    }
  }

  void read_layers() {
    if (!json_.contains("layers_to_transform") || json_["layers_to_transform"].is_null()) return;
    const json& v = json_["layers_to_transform"];
    std::vector<json> items =
        v.is_array() ? std::vector<json>(v.begin(), v.end()) : std::vector<json>{v};
    layers_.emplace();
    for (const json& item : items) {
      if (!item.is_number_integer() || item.get<std::int64_t>() < 0 ||
          item.get<std::int64_t>() >= base_.num_hidden_layers) {
        fail("adapter_config.json: layers_to_transform: expected layer indices in [0, " +
             std::to_string(base_.num_hidden_layers - 1) + "], got " + item.dump());
      }
      layers_->insert(item.get<std::int64_t>());
    }
    const std::string pattern = string_or("layers_pattern", "layers");
    if (!pattern.empty() && pattern != "layers") {
      fail(
          "adapter_config.json: layers_pattern: expected \"layers\" (Llama's module list), got \"" +
          pattern + "\"");
    }
  }

  void read_targets() {
    if (!json_.contains("target_modules") || json_["target_modules"].is_null()) {
      // PEFT's default for Llama-family models.
      target_list_ = {"q_proj", "v_proj"};
    } else if (json_["target_modules"].is_string()) {
      const std::string value = json_["target_modules"].get<std::string>();
      if (value == "all-linear") {
        all_linear_ = true;
      } else {
        target_regex_.emplace(compile("target_modules", value));
      }
    } else if (json_["target_modules"].is_array()) {
      for (const json& item : json_["target_modules"]) {
        if (!item.is_string()) {
          fail("adapter_config.json: target_modules: expected module names, got " + item.dump());
        }
        target_list_.push_back(item.get<std::string>());
      }
    } else {
      fail(
          "adapter_config.json: target_modules: expected a list of module names, a regular "
          "expression or \"all-linear\", got " +
          json_["target_modules"].dump());
    }
    // Every listed name must be a module the model has and qdgen can adapt.
    for (const std::string& t : target_list_) {
      const std::string last = t.substr(t.find_last_of('.') + 1);
      if (last == "embed_tokens" || last == "lm_head") {
        fail("adapter_config.json: target_modules: '" + t +
             "': LoRA on the embeddings or lm_head is not supported (only the seven "
             "projections of each layer)");
      }
      bool known = false;
      for (const LoraTarget target : kAllTargets) known = known || last == lora_target_name(target);
      if (!known) {
        fail("adapter_config.json: target_modules: '" + t +
             "': the model has no such module (expected q_proj, k_proj, v_proj, o_proj, "
             "gate_proj, up_proj or down_proj)");
      }
    }
  }

  std::filesystem::path folder_;
  const LlamaConfig& base_;
  json json_;
  std::int64_t r_ = 8;
  double alpha_ = 8;
  bool rslora_ = false;
  std::vector<std::pair<unicode::Regex, double>> rank_pattern_, alpha_pattern_;
  std::optional<std::set<std::int64_t>> layers_;
  bool all_linear_ = false;
  std::optional<unicode::Regex> target_regex_;
  std::vector<std::string> target_list_;
};

// "base_model.model.model.layers.3.mlp.up_proj.lora_A.weight" -> (3, kUp, 'A'); saved files of
// some PEFT versions keep the adapter name ("lora_A.default.weight").
struct TensorKey {
  std::int64_t layer;
  LoraTarget target;
  char matrix;
};
std::optional<TensorKey> parse_tensor_name(const std::string& name) {
  std::string rest = name;
  if (!rest.starts_with(kTensorPrefix)) return std::nullopt;
  rest = rest.substr(std::string(kTensorPrefix).size());
  if (!rest.starts_with("model.layers.")) return std::nullopt;
  rest = rest.substr(std::string("model.layers.").size());
  const std::size_t dot = rest.find('.');
  if (dot == 0 || dot == std::string::npos ||
      !std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(dot),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      dot > 6) {
    return std::nullopt;
  }
  const std::int64_t layer = std::stoll(rest.substr(0, dot));
  rest = rest.substr(dot + 1);
  for (const LoraTarget target : kAllTargets) {
    const std::string path = lora_target_path(target);
    for (const char matrix : {'A', 'B'}) {
      for (const std::string& suffix : {std::string(".lora_") + matrix + ".weight",
                                        std::string(".lora_") + matrix + ".default.weight"}) {
        if (rest == path + suffix) return TensorKey{layer, target, matrix};
      }
    }
  }
  return std::nullopt;
}

std::vector<float> read_floats(const TensorView& tensor) {
  std::vector<float> values(static_cast<std::size_t>(tensor.numel()));
  convert_to_f32(tensor, values);
  return values;
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  io::AtomicFileWriter writer(path);
  writer.write(std::as_bytes(std::span<const char>(text)));
  writer.commit();
}

}  // namespace

const char* lora_target_name(LoraTarget target) {
  switch (target) {
    case LoraTarget::kQ:
      return "q_proj";
    case LoraTarget::kK:
      return "k_proj";
    case LoraTarget::kV:
      return "v_proj";
    case LoraTarget::kO:
      return "o_proj";
    case LoraTarget::kGate:
      return "gate_proj";
    case LoraTarget::kUp:
      return "up_proj";
    case LoraTarget::kDown:
      return "down_proj";
  }
  return "unknown";
}

std::string lora_target_path(LoraTarget target) {
  const bool attention = target == LoraTarget::kQ || target == LoraTarget::kK ||
                         target == LoraTarget::kV || target == LoraTarget::kO;
  return std::string(attention ? "self_attn." : "mlp.") + lora_target_name(target);
}

std::int64_t lora_target_out_features(const LlamaConfig& c, LoraTarget target) {
  switch (target) {
    case LoraTarget::kQ:
      return c.num_attention_heads * c.head_dim;
    case LoraTarget::kK:
    case LoraTarget::kV:
      return c.num_key_value_heads * c.head_dim;
    case LoraTarget::kO:
    case LoraTarget::kDown:
      return c.hidden_size;
    case LoraTarget::kGate:
    case LoraTarget::kUp:
      return c.intermediate_size;
  }
  return 0;
}

std::int64_t lora_target_in_features(const LlamaConfig& c, LoraTarget target) {
  switch (target) {
    case LoraTarget::kO:
      return c.num_attention_heads * c.head_dim;
    case LoraTarget::kDown:
      return c.intermediate_size;
    default:
      return c.hidden_size;
  }
}

LoraAdapter read_peft_adapter(const std::filesystem::path& folder, const LlamaConfig& base,
                              const std::string& name) {
  const AdapterConfig config(folder, base);
  const auto weights_path = folder / "adapter_model.safetensors";
  if (!std::filesystem::exists(weights_path)) {
    if (std::filesystem::exists(folder / "adapter_model.bin")) {
      config.fail(
          "adapter_model.bin (PyTorch pickle) is not supported; save the adapter with "
          "safe_serialization=True (adapter_model.safetensors)");
    }
    config.fail("no adapter_model.safetensors");
  }
  const auto file = SafetensorsFile::open(weights_path);

  LoraAdapter adapter;
  adapter.name = name;
  adapter.folder = folder;
  adapter.r = config.r();
  adapter.lora_alpha = config.alpha();
  adapter.use_rslora = config.rslora();
  adapter.base_model_name_or_path = config.base_model();

  std::map<std::pair<std::int64_t, LoraTarget>, std::array<const TensorView*, 2>> found;
  for (const TensorView& tensor : file->tensors()) {
    const auto key = parse_tensor_name(tensor.name);
    if (!key) {
      const bool embedding = tensor.name.find("lora_embedding_") != std::string::npos;
      config.fail("adapter_model.safetensors: tensor '" + tensor.name + "' " +
                  (embedding ? "is an embedding LoRA, which is not supported"
                             : "is not a LoRA matrix of a layer projection"));
    }
    if (key->layer >= base.num_hidden_layers) {
      config.fail("adapter_model.safetensors: tensor '" + tensor.name + "' is for layer " +
                  std::to_string(key->layer) + ", but the model has " +
                  std::to_string(base.num_hidden_layers) + " layers (an adapter for another base)");
    }
    if (!config.targets(key->layer, key->target)) {
      config.fail("adapter_model.safetensors: tensor '" + tensor.name +
                  "' is for a module that adapter_config.json does not target");
    }
    auto& slot = found[{key->layer, key->target}][key->matrix == 'A' ? 0 : 1];
    if (slot != nullptr) {
      config.fail("adapter_model.safetensors: two tensors for '" + tensor.name + "'");
    }
    slot = &tensor;
  }

  for (std::int64_t layer = 0; layer < base.num_hidden_layers; ++layer) {
    for (const LoraTarget target : kAllTargets) {
      if (!config.targets(layer, target)) continue;
      const std::string module = module_name(layer, target);
      const auto it = found.find({layer, target});
      for (const int m : {0, 1}) {
        if (it == found.end() || it->second[m] == nullptr) {
          config.fail("adapter_model.safetensors: tensor '" + std::string(kTensorPrefix) + module +
                      ".lora_" + (m == 0 ? "A" : "B") +
                      ".weight' is missing (adapter_config.json targets " + module + ")");
        }
      }
      LoraModule lora;
      lora.layer = layer;
      lora.target = target;
      lora.rank = config.rank_of(module);
      lora.alpha = config.alpha_of(module);
      lora.scale = lora.alpha / (config.rslora() ? std::sqrt(static_cast<double>(lora.rank))
                                                 : static_cast<double>(lora.rank));
      const std::vector<std::int64_t> a_shape{lora.rank, lora_target_in_features(base, target)};
      const std::vector<std::int64_t> b_shape{lora_target_out_features(base, target), lora.rank};
      const TensorView& a = *it->second[0];
      const TensorView& b = *it->second[1];
      for (const auto& [tensor, shape] : {std::pair{&a, a_shape}, std::pair{&b, b_shape}}) {
        if (tensor->shape != shape) {
          config.fail("adapter_model.safetensors: tensor '" + tensor->name + "' has shape " +
                      shape_text(tensor->shape) + ", the base model and rank " +
                      std::to_string(lora.rank) + " imply " + shape_text(shape) +
                      " (an adapter for another base, or a rank_pattern mismatch)");
        }
        if (tensor->dtype != DType::kF32 && tensor->dtype != DType::kF16 &&
            tensor->dtype != DType::kBF16) {
          config.fail("adapter_model.safetensors: tensor '" + tensor->name + "' has dtype " +
                      dtype_name(tensor->dtype) + ", expected F32, F16 or BF16");
        }
      }
      lora.a = read_floats(a);
      lora.b = read_floats(b);
      for (const auto* values : {&lora.a, &lora.b}) {
        if (!std::all_of(values->begin(), values->end(),
                         [](float v) { return std::isfinite(v); })) {
          config.fail("adapter_model.safetensors: tensor '" +
                      (values == &lora.a ? a.name : b.name) + "' holds non-finite values");
        }
      }
      adapter.modules.push_back(std::move(lora));
    }
  }
  if (adapter.modules.empty()) config.fail("adapter_config.json targets no module of this model");
  return adapter;
}

void write_peft_adapter(const std::filesystem::path& folder, const LoraAdapter& adapter) {
  if (adapter.modules.empty()) {
    throw std::runtime_error(folder.string() + ": the adapter has no modules to write");
  }
  std::filesystem::create_directories(folder);
  std::set<std::string> targets;
  std::set<std::int64_t> layers;
  json rank_pattern = json::object(), alpha_pattern = json::object();
  std::vector<TensorToWrite> tensors;
  std::vector<std::string> names;
  names.reserve(2 * adapter.modules.size());
  for (const LoraModule& m : adapter.modules) {
    targets.insert(lora_target_name(m.target));
    layers.insert(m.layer);
    const std::string module = module_name(m.layer, m.target);
    if (m.rank != adapter.r) rank_pattern[module] = m.rank;
    if (m.alpha != adapter.lora_alpha) alpha_pattern[module] = m.alpha;
    names.push_back(std::string(kTensorPrefix) + module + ".lora_A.weight");
    names.push_back(std::string(kTensorPrefix) + module + ".lora_B.weight");
  }
  for (std::size_t i = 0; i < adapter.modules.size(); ++i) {
    const LoraModule& m = adapter.modules[i];
    const std::int64_t in = static_cast<std::int64_t>(m.a.size()) / m.rank;
    const std::int64_t out = static_cast<std::int64_t>(m.b.size()) / m.rank;
    tensors.push_back(
        {names[2 * i], DType::kF32, {m.rank, in}, std::as_bytes(std::span<const float>(m.a))});
    tensors.push_back(
        {names[2 * i + 1], DType::kF32, {out, m.rank}, std::as_bytes(std::span<const float>(m.b))});
  }
  json config = {{"peft_type", "LORA"},
                 {"task_type", "CAUSAL_LM"},
                 {"r", adapter.r},
                 {"lora_alpha", adapter.lora_alpha},
                 {"lora_dropout", 0.0},
                 {"bias", "none"},
                 {"fan_in_fan_out", false},
                 {"use_rslora", adapter.use_rslora},
                 {"use_dora", false},
                 {"inference_mode", true},
                 {"init_lora_weights", true},
                 {"modules_to_save", nullptr},
                 {"target_modules", std::vector<std::string>(targets.begin(), targets.end())},
                 {"rank_pattern", rank_pattern},
                 {"alpha_pattern", alpha_pattern},
                 {"base_model_name_or_path", adapter.base_model_name_or_path},
                 {"layers_pattern", nullptr},
                 {"layers_to_transform", nullptr},
                 {"revision", nullptr}};
  // A list of target names applies to every layer; when only some layers carry modules,
  // say which.
  const std::int64_t highest = *layers.rbegin();
  if (static_cast<std::int64_t>(layers.size()) != highest + 1) {
    config["layers_to_transform"] = std::vector<std::int64_t>(layers.begin(), layers.end());
    config["layers_pattern"] = "layers";
  }
  write_safetensors(folder / "adapter_model.safetensors", tensors, {{"format", "pt"}});
  write_text_file(folder / "adapter_config.json", config.dump(2) + "\n");
}

void merge_lora_adapters(const LlamaConfig& config, std::vector<OwnedTensor>& tensors,
                         const std::vector<const LoraAdapter*>& adapters,
                         const std::vector<double>& weights) {
  if (adapters.size() != weights.size()) {
    throw std::invalid_argument("merge: " + std::to_string(weights.size()) + " weights for " +
                                std::to_string(adapters.size()) + " adapters");
  }
  std::map<std::string, OwnedTensor*> by_name;
  for (OwnedTensor& t : tensors) by_name[t.name] = &t;
  for (std::size_t i = 0; i < adapters.size(); ++i) {
    for (const LoraModule& m : adapters[i]->modules) {
      const std::string name = module_name(m.layer, m.target) + ".weight";
      const auto it = by_name.find(name);
      const std::int64_t out = lora_target_out_features(config, m.target);
      const std::int64_t in = lora_target_in_features(config, m.target);
      if (it == by_name.end() || it->second->shape != std::vector<std::int64_t>{out, in}) {
        throw std::runtime_error("merge: adapter '" + adapters[i]->name + "' needs tensor '" +
                                 name + "' of shape " + shape_text({out, in}) +
                                 ", which the base model lacks");
      }
      std::vector<float>& w = it->second->data;
      const double factor = weights[i] * m.scale;
      // W[o][k] += factor * sum_j B[o][j] A[j][k], accumulated in double per row.
      std::vector<double> row(static_cast<std::size_t>(in));
      for (std::int64_t o = 0; o < out; ++o) {
        std::fill(row.begin(), row.end(), 0.0);
        for (std::int64_t j = 0; j < m.rank; ++j) {
          const double b = m.b[static_cast<std::size_t>(o * m.rank + j)];
          const float* a = m.a.data() + j * in;
          for (std::int64_t k = 0; k < in; ++k) row[static_cast<std::size_t>(k)] += b * a[k];
        }
        float* target = w.data() + o * in;
        for (std::int64_t k = 0; k < in; ++k) {
          target[k] = static_cast<float>(target[k] + factor * row[static_cast<std::size_t>(k)]);
        }
      }
    }
  }
}

}  // namespace qdgen::inference
