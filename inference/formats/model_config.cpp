// Llama-family configurations from Hugging Face config.json files, and back.

#include "qdgen/inference/model_config.hpp"

#include <array>
#include <fstream>
#include <stdexcept>
#include <string>

namespace qdgen::inference {

namespace {

using nlohmann::json;

struct Architecture {
  const char* class_name;
  const char* model_type;
};
constexpr std::array<Architecture, 3> kArchitectures = {{
    {"LlamaForCausalLM", "llama"},
    {"Qwen2ForCausalLM", "qwen2"},
    {"MistralForCausalLM", "mistral"},
}};
constexpr const char* kKnownArchitectures =
    "LlamaForCausalLM, Qwen2ForCausalLM or MistralForCausalLM";

const Architecture* find_architecture(const std::string& name) {
  for (const Architecture& architecture : kArchitectures) {
    if (name == architecture.class_name || name == architecture.model_type) return &architecture;
  }
  return nullptr;
}

// Parsed JSON stores non-negative integers as unsigned, JSON built in code as signed.
bool is_non_negative_integer(const json& value) {
  return value.is_number_unsigned() ||
         (value.is_number_integer() && value.get<std::int64_t>() >= 0);
}

std::string short_dump(const json& value) {
  std::string text = value.dump(-1, ' ', true, json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

// Reads keys of one JSON object; every error names the source file and the key.
class ConfigReader {
 public:
  ConfigReader(const json& object, std::string source, std::string prefix = "")
      : object_(object), source_(std::move(source)), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw std::runtime_error(source_ + ": key '" + prefix_ + key + "': " + what);
  }
  // Absent and null both mean "not given", as transformers treats them.
  const json* find(const std::string& key) const {
    const auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }
  std::int64_t positive_int(const std::string& key) const {
    const json* value = find(key);
    if (value == nullptr) fail(key, "missing (expected a positive integer)");
    return positive_int(key, *value);
  }
  std::int64_t positive_int(const std::string& key, std::int64_t fallback) const {
    const json* value = find(key);
    return value == nullptr ? fallback : positive_int(key, *value);
  }
  std::int64_t positive_int(const std::string& key, const json& value) const {
    if (!is_non_negative_integer(value) || value.get<std::uint64_t>() == 0 ||
        value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      fail(key, "expected a positive integer, got " + short_dump(value));
    }
    return value.get<std::int64_t>();
  }
  std::int64_t token_id(const std::string& key, const json& value) const {
    if (!is_non_negative_integer(value)) {
      fail(key, "expected a non-negative integer token id, got " + short_dump(value));
    }
    return value.get<std::int64_t>();
  }
  double positive_number(const std::string& key, double fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_number() || value->get<double>() <= 0) {
      fail(key, "expected a positive number, got " + short_dump(*value));
    }
    return value->get<double>();
  }
  double required_positive_number(const std::string& key) const {
    if (find(key) == nullptr) fail(key, "missing (expected a positive number)");
    return positive_number(key, 0.0);
  }
  bool boolean(const std::string& key, bool fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail(key, "expected true or false, got " + short_dump(*value));
    return value->get<bool>();
  }
  std::string string(const std::string& key, const std::string& fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_string()) fail(key, "expected a string, got " + short_dump(*value));
    return value->get<std::string>();
  }

 private:
  const json& object_;
  std::string source_;
  std::string prefix_;
};

std::string read_architecture(const ConfigReader& reader) {
  if (const json* architectures = reader.find("architectures")) {
    if (!architectures->is_array() || architectures->empty()) {
      reader.fail("architectures",
                  "expected a list of class names, got " + short_dump(*architectures));
    }
    for (const json& name : *architectures) {
      if (name.is_string()) {
        const Architecture* known = find_architecture(name.get<std::string>());
        if (known != nullptr) return known->class_name;
      }
    }
    reader.fail("architectures", "unknown architecture " + short_dump(*architectures) +
                                     " (expected " + kKnownArchitectures + ")");
  }
  const std::string model_type = reader.string("model_type", "");
  if (model_type.empty()) {
    reader.fail("architectures", std::string("missing, and no model_type either (expected ") +
                                     kKnownArchitectures + ")");
  }
  const Architecture* known = find_architecture(model_type);
  if (known == nullptr || model_type != known->model_type) {
    reader.fail("model_type",
                "unknown model type \"" + model_type + "\" (expected llama, qwen2 or mistral)");
  }
  return known->class_name;
}

std::optional<RopeScalingLlama3> read_rope_scaling(const ConfigReader& reader,
                                                   const std::string& source) {
  const json* scaling = reader.find("rope_scaling");
  if (scaling == nullptr) return std::nullopt;
  if (!scaling->is_object()) {
    reader.fail("rope_scaling", "expected an object or null, got " + short_dump(*scaling));
  }
  const ConfigReader fields(*scaling, source, "rope_scaling.");
  std::string type = fields.string("rope_type", "");
  if (type.empty()) type = fields.string("type", "");
  if (type == "default") return std::nullopt;  // transformers' name for plain RoPE
  if (type != "llama3") {
    fields.fail("rope_type",
                (type.empty() ? std::string("missing") : "\"" + type + "\" is not supported") +
                    " (qdgen implements \"llama3\" scaling or none)");
  }
  RopeScalingLlama3 llama3;
  llama3.factor = fields.required_positive_number("factor");
  llama3.low_freq_factor = fields.required_positive_number("low_freq_factor");
  llama3.high_freq_factor = fields.required_positive_number("high_freq_factor");
  llama3.original_max_position_embeddings = fields.positive_int("original_max_position_embeddings");
  return llama3;
}

void fail_config(const std::string& source, const std::string& key, const std::string& what) {
  throw std::runtime_error(source + ": key '" + key + "': " + what);
}

}  // namespace

void validate_llama_config(const LlamaConfig& config, const std::string& source) {
  const Architecture* architecture = find_architecture(config.architecture);
  if (architecture == nullptr || config.architecture != architecture->class_name) {
    fail_config(source, "architectures",
                "unknown architecture \"" + config.architecture + "\" (expected " +
                    kKnownArchitectures + ")");
  }
  const std::pair<const char*, std::int64_t> sizes[] = {
      {"vocab_size", config.vocab_size},
      {"hidden_size", config.hidden_size},
      {"intermediate_size", config.intermediate_size},
      {"num_hidden_layers", config.num_hidden_layers},
      {"num_attention_heads", config.num_attention_heads},
      {"num_key_value_heads", config.num_key_value_heads},
      {"head_dim", config.head_dim},
      {"max_position_embeddings", config.max_position_embeddings},
  };
  for (const auto& [key, value] : sizes) {
    if (value <= 0)
      fail_config(source, key, "expected a positive integer, got " + std::to_string(value));
  }
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    fail_config(source, "num_key_value_heads",
                std::to_string(config.num_key_value_heads) +
                    " does not divide num_attention_heads " +
                    std::to_string(config.num_attention_heads));
  }
  if (config.head_dim % 2 != 0) {
    fail_config(
        source, "head_dim",
        std::to_string(config.head_dim) + " is odd; rotary embeddings rotate pairs of dimensions");
  }
  if (!(config.rms_norm_eps > 0)) fail_config(source, "rms_norm_eps", "expected a positive number");
  if (!(config.rope_theta > 0)) fail_config(source, "rope_theta", "expected a positive number");
  if (config.rope_scaling) {
    const RopeScalingLlama3& scaling = *config.rope_scaling;
    if (!(scaling.factor > 0 && scaling.low_freq_factor > 0 && scaling.high_freq_factor > 0 &&
          scaling.original_max_position_embeddings > 0)) {
      fail_config(source, "rope_scaling",
                  "factors and original_max_position_embeddings must be positive");
    }
    if (scaling.high_freq_factor == scaling.low_freq_factor) {
      fail_config(source, "rope_scaling.high_freq_factor",
                  "equals low_freq_factor (the llama3 formula divides by their difference)");
    }
  }
  const bool qwen2 = config.architecture == "Qwen2ForCausalLM";
  if (config.qkv_bias != (config.attention_bias || qwen2)) {
    fail_config(source, "attention_bias",
                "qkv_bias must equal attention_bias, or true for Qwen2ForCausalLM");
  }
  if (config.torch_dtype != "float32" && config.torch_dtype != "float16" &&
      config.torch_dtype != "bfloat16") {
    fail_config(source, "torch_dtype",
                "\"" + config.torch_dtype + "\" is not float32, float16 or bfloat16");
  }
  const auto check_token = [&](const char* key, std::int64_t id) {
    if (id < 0 || id >= config.vocab_size) {
      fail_config(source, key,
                  "token id " + std::to_string(id) + " is outside the vocabulary of " +
                      std::to_string(config.vocab_size));
    }
  };
  if (config.bos_token_id) check_token("bos_token_id", *config.bos_token_id);
  for (std::int64_t id : config.eos_token_ids) check_token("eos_token_id", id);
}

LlamaConfig parse_llama_config(const nlohmann::json& document, const std::string& source) {
  if (!document.is_object()) {
    throw std::runtime_error(source + ": expected a JSON object (a model's config.json)");
  }
  const ConfigReader reader(document, source);
  LlamaConfig config;
  config.architecture = read_architecture(reader);
  const bool is_llama = config.architecture == "LlamaForCausalLM";

  config.vocab_size = reader.positive_int("vocab_size");
  config.hidden_size = reader.positive_int("hidden_size");
  config.intermediate_size = reader.positive_int("intermediate_size");
  config.num_hidden_layers = reader.positive_int("num_hidden_layers");
  config.num_attention_heads = reader.positive_int("num_attention_heads");
  config.num_key_value_heads =
      reader.positive_int("num_key_value_heads", config.num_attention_heads);
  if (reader.find("head_dim") != nullptr) {
    config.head_dim = reader.positive_int("head_dim");
  } else {
    if (config.hidden_size % config.num_attention_heads != 0) {
      reader.fail("num_attention_heads",
                  std::to_string(config.num_attention_heads) + " does not divide hidden_size " +
                      std::to_string(config.hidden_size) + " (and no head_dim is given)");
    }
    config.head_dim = config.hidden_size / config.num_attention_heads;
  }
  config.max_position_embeddings = reader.positive_int("max_position_embeddings", 2048);
  config.rms_norm_eps = reader.positive_number("rms_norm_eps", 1e-6);
  config.rope_theta = reader.positive_number("rope_theta", 10000.0);
  config.rope_scaling = read_rope_scaling(reader, source);
  config.tie_word_embeddings = reader.boolean("tie_word_embeddings", false);
  // Only Llama reads these keys; Qwen2 (q/k/v biases) and Mistral (none) fix them in code.
  config.attention_bias = is_llama && reader.boolean("attention_bias", false);
  config.mlp_bias = is_llama && reader.boolean("mlp_bias", false);
  config.qkv_bias = config.attention_bias || config.architecture == "Qwen2ForCausalLM";

  const std::string activation = reader.string("hidden_act", "silu");
  if (activation != "silu") {
    reader.fail("hidden_act", "\"" + activation + "\" is not supported (expected \"silu\")");
  }
  if (const json* bos = reader.find("bos_token_id")) {
    config.bos_token_id = reader.token_id("bos_token_id", *bos);
  }
  if (const json* eos = reader.find("eos_token_id")) {
    if (eos->is_array()) {
      for (const json& id : *eos)
        config.eos_token_ids.push_back(reader.token_id("eos_token_id", id));
    } else {
      config.eos_token_ids.push_back(reader.token_id("eos_token_id", *eos));
    }
  }
  // transformers renamed torch_dtype to dtype in 2025; accept both.
  config.torch_dtype = reader.string("torch_dtype", reader.string("dtype", "float32"));
  validate_llama_config(config, source);
  return config;
}

LlamaConfig read_llama_config(const std::filesystem::path& config_json) {
  std::ifstream stream(config_json);
  if (!stream) throw std::runtime_error(config_json.string() + ": cannot open");
  json parsed;
  try {
    parsed = json::parse(stream);
  } catch (const json::parse_error& error) {
    throw std::runtime_error(config_json.string() + ": not valid JSON (error at byte " +
                             std::to_string(error.byte) + ")");
  }
  return parse_llama_config(parsed, config_json.string());
}

nlohmann::json to_json(const LlamaConfig& config) {
  const Architecture* architecture = find_architecture(config.architecture);
  json out = {
      {"architectures", {config.architecture}},
      {"model_type", architecture != nullptr ? architecture->model_type : "llama"},
      {"vocab_size", config.vocab_size},
      {"hidden_size", config.hidden_size},
      {"intermediate_size", config.intermediate_size},
      {"num_hidden_layers", config.num_hidden_layers},
      {"num_attention_heads", config.num_attention_heads},
      {"num_key_value_heads", config.num_key_value_heads},
      {"head_dim", config.head_dim},
      {"max_position_embeddings", config.max_position_embeddings},
      {"rms_norm_eps", config.rms_norm_eps},
      {"rope_theta", config.rope_theta},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", config.tie_word_embeddings},
      {"torch_dtype", config.torch_dtype},
  };
  if (config.architecture == "LlamaForCausalLM") {
    out["attention_bias"] = config.attention_bias;
    out["mlp_bias"] = config.mlp_bias;
  }
  if (config.rope_scaling) {
    out["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", config.rope_scaling->factor},
        {"low_freq_factor", config.rope_scaling->low_freq_factor},
        {"high_freq_factor", config.rope_scaling->high_freq_factor},
        {"original_max_position_embeddings", config.rope_scaling->original_max_position_embeddings},
    };
  } else {
    out["rope_scaling"] = nullptr;
  }
  if (config.bos_token_id) out["bos_token_id"] = *config.bos_token_id;
  if (config.eos_token_ids.size() == 1) out["eos_token_id"] = config.eos_token_ids.front();
  if (config.eos_token_ids.size() > 1) out["eos_token_id"] = config.eos_token_ids;
  return out;
}

std::vector<TensorSpec> llama_tensor_specs(const LlamaConfig& config) {
  const std::int64_t hidden = config.hidden_size;
  const std::int64_t q_size = config.num_attention_heads * config.head_dim;
  const std::int64_t kv_size = config.num_key_value_heads * config.head_dim;
  const std::int64_t inner = config.intermediate_size;
  std::vector<TensorSpec> specs = {{"model.embed_tokens.weight", {config.vocab_size, hidden}}};
  for (std::int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".";
    specs.push_back({prefix + "input_layernorm.weight", {hidden}});
    specs.push_back({prefix + "self_attn.q_proj.weight", {q_size, hidden}});
    specs.push_back({prefix + "self_attn.k_proj.weight", {kv_size, hidden}});
    specs.push_back({prefix + "self_attn.v_proj.weight", {kv_size, hidden}});
    specs.push_back({prefix + "self_attn.o_proj.weight", {hidden, q_size}});
    if (config.qkv_bias) {
      specs.push_back({prefix + "self_attn.q_proj.bias", {q_size}});
      specs.push_back({prefix + "self_attn.k_proj.bias", {kv_size}});
      specs.push_back({prefix + "self_attn.v_proj.bias", {kv_size}});
    }
    if (config.attention_bias) specs.push_back({prefix + "self_attn.o_proj.bias", {hidden}});
    specs.push_back({prefix + "post_attention_layernorm.weight", {hidden}});
    specs.push_back({prefix + "mlp.gate_proj.weight", {inner, hidden}});
    specs.push_back({prefix + "mlp.up_proj.weight", {inner, hidden}});
    specs.push_back({prefix + "mlp.down_proj.weight", {hidden, inner}});
    if (config.mlp_bias) {
      specs.push_back({prefix + "mlp.gate_proj.bias", {inner}});
      specs.push_back({prefix + "mlp.up_proj.bias", {inner}});
      specs.push_back({prefix + "mlp.down_proj.bias", {hidden}});
    }
  }
  specs.push_back({"model.norm.weight", {hidden}});
  if (!config.tie_word_embeddings) specs.push_back({"lm_head.weight", {config.vocab_size, hidden}});
  return specs;
}

}  // namespace qdgen::inference
