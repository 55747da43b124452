// Llama-family configurations from Hugging Face config.json files, and back.

#include "qdgen/inference/model_config.hpp"

#include <array>
#include <stdexcept>
#include <string>

#include "qdgen/common/json_parse.hpp"
#include "qdgen/common/json_reader.hpp"
#include "qdgen/inference/tokenizer.hpp"

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

using common::JsonReader;

// Size keys and their upper bounds (README, "Model files"): generous for any real model,
// small enough that products of them cannot overflow 64 bits.
struct SizeKey {
  const char* key;
  std::int64_t max;
  std::int64_t LlamaConfig::*field;
};
constexpr SizeKey kSizeKeys[] = {
    {"vocab_size", kMaxVocabulary, &LlamaConfig::vocab_size},
    {"hidden_size", std::int64_t{1} << 20, &LlamaConfig::hidden_size},
    {"intermediate_size", std::int64_t{1} << 22, &LlamaConfig::intermediate_size},
    {"num_hidden_layers", 4096, &LlamaConfig::num_hidden_layers},
    {"num_attention_heads", 4096, &LlamaConfig::num_attention_heads},
    {"num_key_value_heads", 4096, &LlamaConfig::num_key_value_heads},
    {"head_dim", 65536, &LlamaConfig::head_dim},
    {"max_position_embeddings", kMaxPositions, &LlamaConfig::max_position_embeddings},
};
const SizeKey& size_key(const std::string& key) {
  for (const SizeKey& size : kSizeKeys)
    if (key == size.key) return size;
  throw std::logic_error("no size key " + key);
}

std::int64_t read_size(JsonReader& reader, const std::string& key,
                       std::optional<std::int64_t> fallback = {}) {
  return reader.integer(key, 1, size_key(key).max, fallback);
}

std::int64_t read_token_id(const common::JsonValue& value) {
  return value.integer(0, kMaxVocabulary - 1);
}

std::string read_architecture(JsonReader& reader) {
  if (const auto architectures = reader.optional("architectures")) {
    if (!architectures->json().is_array() || architectures->json().empty())
      architectures->expected("a list of class names");
    for (const auto& name : architectures->json()) {
      if (name.is_string()) {
        const Architecture* known = find_architecture(name.get<std::string>());
        if (known != nullptr) return known->class_name;
      }
    }
    architectures->fail("unknown architecture " + common::describe_json(architectures->json()) +
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

std::optional<RopeScalingLlama3> read_rope_scaling(JsonReader& reader) {
  const auto scaling = reader.optional("rope_scaling");
  if (!scaling) return std::nullopt;
  if (!scaling->json().is_object()) scaling->expected("an object or null");
  JsonReader fields = scaling->object();
  std::string type = fields.string("rope_type", "");
  if (type.empty()) type = fields.string("type", "");
  if (type == "default") return std::nullopt;  // transformers' name for plain RoPE
  if (type != "llama3") {
    fields.fail("rope_type",
                (type.empty() ? std::string("missing") : "\"" + type + "\" is not supported") +
                    " (qdgen implements \"llama3\" scaling or none)");
  }
  RopeScalingLlama3 llama3;
  llama3.factor = fields.positive_number("factor");
  llama3.low_freq_factor = fields.positive_number("low_freq_factor");
  llama3.high_freq_factor = fields.positive_number("high_freq_factor");
  llama3.original_max_position_embeddings =
      fields.integer("original_max_position_embeddings", 1, kMaxPositions);
  return llama3;
}

void fail_config(const std::string& source, const std::string& key, const std::string& what) {
  throw common::JsonError(source + ": " + key + ": " + what);
}

}  // namespace

void validate_llama_config(const LlamaConfig& config, const std::string& source) {
  const Architecture* architecture = find_architecture(config.architecture);
  if (architecture == nullptr || config.architecture != architecture->class_name) {
    fail_config(source, "architectures",
                "unknown architecture \"" + config.architecture + "\" (expected " +
                    kKnownArchitectures + ")");
  }
  for (const SizeKey& size : kSizeKeys) {
    const std::int64_t value = config.*size.field;
    if (value < 1 || value > size.max)
      fail_config(source, size.key,
                  "expected an integer in [1, " + std::to_string(size.max) + "], got " +
                      std::to_string(value));
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
          scaling.original_max_position_embeddings > 0 &&
          scaling.original_max_position_embeddings <= kMaxPositions)) {
      fail_config(source, "rope_scaling",
                  "factors must be positive, original_max_position_embeddings in [1, " +
                      std::to_string(kMaxPositions) + "]");
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
    throw common::JsonError(source + ": expected a JSON object (a model's config.json), got " +
                            common::describe_json(document));
  }
  // transformers treats null as "not given"; keys qdgen does not use are ignored.
  JsonReader reader(document, source, "", common::ReadOptions{.null_is_absent = true});
  LlamaConfig config;
  config.architecture = read_architecture(reader);
  const bool is_llama = config.architecture == "LlamaForCausalLM";

  config.vocab_size = read_size(reader, "vocab_size");
  config.hidden_size = read_size(reader, "hidden_size");
  config.intermediate_size = read_size(reader, "intermediate_size");
  config.num_hidden_layers = read_size(reader, "num_hidden_layers");
  config.num_attention_heads = read_size(reader, "num_attention_heads");
  config.num_key_value_heads = read_size(reader, "num_key_value_heads", config.num_attention_heads);
  if (reader.has("head_dim")) {
    config.head_dim = read_size(reader, "head_dim");
  } else {
    if (config.hidden_size % config.num_attention_heads != 0) {
      reader.fail("num_attention_heads",
                  std::to_string(config.num_attention_heads) + " does not divide hidden_size " +
                      std::to_string(config.hidden_size) + " (and no head_dim is given)");
    }
    config.head_dim = config.hidden_size / config.num_attention_heads;
  }
  config.max_position_embeddings = read_size(reader, "max_position_embeddings", 2048);
  config.rms_norm_eps = reader.positive_number("rms_norm_eps", 1e-6);
  config.rope_theta = reader.positive_number("rope_theta", 10000.0);
  config.rope_scaling = read_rope_scaling(reader);
  config.tie_word_embeddings = reader.boolean("tie_word_embeddings", false);
  // Only Llama reads these keys; Qwen2 (q/k/v biases) and Mistral (none) fix them in code.
  config.attention_bias = is_llama && reader.boolean("attention_bias", false);
  config.mlp_bias = is_llama && reader.boolean("mlp_bias", false);
  config.qkv_bias = config.attention_bias || config.architecture == "Qwen2ForCausalLM";

  const std::string activation = reader.string("hidden_act", "silu");
  if (activation != "silu") {
    reader.fail("hidden_act", "\"" + activation + "\" is not supported (expected \"silu\")");
  }
  if (const auto bos = reader.optional("bos_token_id")) config.bos_token_id = read_token_id(*bos);
  if (const auto eos = reader.optional("eos_token_id")) {
    if (eos->json().is_array()) {
      for (const auto& id : eos->array("a token id or a list of token ids"))
        config.eos_token_ids.push_back(read_token_id(id));
    } else {
      config.eos_token_ids.push_back(read_token_id(*eos));
    }
  }
  // transformers renamed torch_dtype to dtype in 2025; accept both.
  config.torch_dtype = reader.string("torch_dtype", reader.string("dtype", "float32"));
  validate_llama_config(config, source);
  return config;
}

LlamaConfig read_llama_config(const std::filesystem::path& config_json) {
  return parse_llama_config(common::read_json_file(config_json, "the model's config.json"),
                            config_json.string());
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
