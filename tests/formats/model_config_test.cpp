// config.json parsing, on texts shaped like the files real model repositories ship.

#include "qdgen/inference/model_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace qdgen::inference {
namespace {

using nlohmann::json;

// meta-llama/Llama-2-7b-hf
const char* kLlama2 = R"({
  "_name_or_path": "meta-llama/Llama-2-7b-hf", "architectures": ["LlamaForCausalLM"],
  "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096,
  "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
  "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null,
  "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.31.0.dev0",
  "use_cache": true, "vocab_size": 32000})";

// meta-llama/Llama-3.1-8B-Instruct
const char* kLlama31 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
  "transformers_version": "4.42.3", "use_cache": true, "vocab_size": 128256})";

// meta-llama/Llama-3.2-1B
const char* kLlama32 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})";

// TinyLlama/TinyLlama-1.1B-Chat-v1.0
const char* kTinyLlama = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1,
  "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
  "intermediate_size": 5632, "max_position_embeddings": 2048, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 22, "num_key_value_heads": 4,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.35.0",
  "use_cache": true, "vocab_size": 32000})";

// HuggingFaceTB/SmolLM2-135M (rope_theta is written as an integer there)
const char* kSmolLM2 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "silu", "hidden_size": 576,
  "initializer_range": 0.041666666666666664, "intermediate_size": 1536,
  "is_llama_config": true, "max_position_embeddings": 8192, "mlp_bias": false,
  "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30,
  "num_key_value_heads": 3, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_interleaved": false, "rope_scaling": null, "rope_theta": 100000,
  "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.40.1",
  "use_cache": true, "vocab_size": 49152})";

// Qwen/Qwen2.5-0.5B-Instruct
const char* kQwen25 = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
  "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.43.1", "use_cache": true, "use_sliding_window": false,
  "vocab_size": 151936})";

// mistralai/Mistral-7B-v0.1
const char* kMistral = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
  "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0",
  "use_cache": true, "vocab_size": 32000})";

LlamaConfig parse(const char* text) {
  return parse_llama_config(json::parse(text), "config.json");
}

TEST(LlamaConfigParse, Llama2) {
  const LlamaConfig config = parse(kLlama2);
  EXPECT_EQ(config.architecture, "LlamaForCausalLM");
  EXPECT_EQ(config.vocab_size, 32000);
  EXPECT_EQ(config.hidden_size, 4096);
  EXPECT_EQ(config.intermediate_size, 11008);
  EXPECT_EQ(config.num_hidden_layers, 32);
  EXPECT_EQ(config.num_key_value_heads, 32);
  EXPECT_EQ(config.head_dim, 128);
  EXPECT_EQ(config.max_position_embeddings, 4096);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(config.rope_theta, 10000.0);  // absent: transformers' default
  EXPECT_FALSE(config.rope_scaling);
  EXPECT_FALSE(config.tie_word_embeddings);
  EXPECT_FALSE(config.qkv_bias);
  EXPECT_EQ(config.bos_token_id, 1);
  EXPECT_EQ(config.eos_token_ids, std::vector<std::int64_t>{2});
  EXPECT_EQ(config.torch_dtype, "float16");
}

TEST(LlamaConfigParse, Llama31WithLlama3RopeScalingAndSeveralEosIds) {
  const LlamaConfig config = parse(kLlama31);
  EXPECT_EQ(config.num_key_value_heads, 8);
  EXPECT_DOUBLE_EQ(config.rope_theta, 500000.0);
  ASSERT_TRUE(config.rope_scaling);
  EXPECT_DOUBLE_EQ(config.rope_scaling->factor, 8.0);
  EXPECT_DOUBLE_EQ(config.rope_scaling->low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(config.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(config.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_EQ(config.eos_token_ids, (std::vector<std::int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(config.max_position_embeddings, 131072);
}

TEST(LlamaConfigParse, Llama32TiedWithExplicitHeadDim) {
  const LlamaConfig config = parse(kLlama32);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_EQ(config.head_dim, 64);
  EXPECT_DOUBLE_EQ(config.rope_scaling->factor, 32.0);
  EXPECT_EQ(config.torch_dtype, "bfloat16");
}

TEST(LlamaConfigParse, TinyLlamaGroupedQueryAttention) {
  const LlamaConfig config = parse(kTinyLlama);
  EXPECT_EQ(config.num_attention_heads, 32);
  EXPECT_EQ(config.num_key_value_heads, 4);
  EXPECT_EQ(config.head_dim, 64);
  EXPECT_EQ(config.num_hidden_layers, 22);
}

TEST(LlamaConfigParse, SmolLM2IntegerRopeThetaAndOddHeadCount) {
  const LlamaConfig config = parse(kSmolLM2);
  EXPECT_DOUBLE_EQ(config.rope_theta, 100000.0);
  EXPECT_EQ(config.num_attention_heads, 9);
  EXPECT_EQ(config.num_key_value_heads, 3);
  EXPECT_EQ(config.head_dim, 64);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_EQ(config.bos_token_id, 0);
}

TEST(LlamaConfigParse, Qwen25HasQkvBiasesButNoOutputBias) {
  const LlamaConfig config = parse(kQwen25);
  EXPECT_EQ(config.architecture, "Qwen2ForCausalLM");
  EXPECT_TRUE(config.qkv_bias);
  EXPECT_FALSE(config.attention_bias);
  EXPECT_FALSE(config.mlp_bias);
  EXPECT_EQ(config.head_dim, 64);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(config.rope_theta, 1e6);
  const auto specs = llama_tensor_specs(config);
  const auto has = [&](const std::string& name) {
    return std::any_of(specs.begin(), specs.end(),
                       [&](const TensorSpec& s) { return s.name == name; });
  };
  EXPECT_TRUE(has("model.layers.0.self_attn.q_proj.bias"));
  EXPECT_TRUE(has("model.layers.23.self_attn.v_proj.bias"));
  EXPECT_FALSE(has("model.layers.0.self_attn.o_proj.bias"));
  EXPECT_FALSE(has("lm_head.weight"));  // tied
}

TEST(LlamaConfigParse, MistralSlidingWindowIsIgnored) {
  const LlamaConfig config = parse(kMistral);
  EXPECT_EQ(config.architecture, "MistralForCausalLM");
  EXPECT_EQ(config.num_key_value_heads, 8);
  EXPECT_FALSE(config.qkv_bias);
  EXPECT_EQ(config.max_position_embeddings, 32768);
}

TEST(LlamaConfigParse, DefaultsFollowTransformers) {
  const LlamaConfig config = parse(R"({"model_type": "llama", "vocab_size": 10,
      "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
      "num_attention_heads": 2})");
  EXPECT_EQ(config.architecture, "LlamaForCausalLM");  // from model_type
  EXPECT_EQ(config.num_key_value_heads, 2);
  EXPECT_EQ(config.head_dim, 4);
  EXPECT_EQ(config.max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-6);
  EXPECT_FALSE(config.tie_word_embeddings);
  EXPECT_FALSE(config.bos_token_id);
  EXPECT_TRUE(config.eos_token_ids.empty());
  EXPECT_EQ(config.torch_dtype, "float32");
}

TEST(LlamaConfigParse, LlamaAttentionAndMlpBiasesWhenSet) {
  json document = json::parse(kTinyLlama);
  document["attention_bias"] = true;
  document["mlp_bias"] = true;
  const LlamaConfig config = parse_llama_config(document, "config.json");
  EXPECT_TRUE(config.attention_bias);
  EXPECT_TRUE(config.qkv_bias);
  EXPECT_TRUE(config.mlp_bias);
  const auto specs = llama_tensor_specs(config);
  // Per layer: 2 norms, 4 attention weights + 4 biases, 3 MLP weights + 3 biases.
  EXPECT_EQ(specs.size(), 1 + 22 * (2 + 8 + 6) + 1 + 1u);
}

TEST(LlamaConfigRoundTrip, ToJsonThenParseGivesTheSameConfig) {
  for (const char* text : {kLlama2, kLlama31, kLlama32, kTinyLlama, kSmolLM2, kQwen25, kMistral}) {
    const LlamaConfig config = parse(text);
    const json written = to_json(config);
    EXPECT_EQ(parse_llama_config(written, "written"), config) << written.dump();
    EXPECT_EQ(parse_llama_config(json::parse(written.dump()), "written"), config);
  }
}

TEST(LlamaConfigSpecs, ShapesOfTinyLlama) {
  const auto specs = llama_tensor_specs(parse(kTinyLlama));
  EXPECT_EQ(specs.size(), 1 + 22 * 9 + 1 + 1u);
  EXPECT_EQ(specs.front().name, "model.embed_tokens.weight");
  EXPECT_EQ(specs.front().shape, (std::vector<std::int64_t>{32000, 2048}));
  EXPECT_EQ(specs[3].name, "model.layers.0.self_attn.k_proj.weight");
  EXPECT_EQ(specs[3].shape, (std::vector<std::int64_t>{256, 2048}));
  EXPECT_EQ(specs[7].name, "model.layers.0.mlp.gate_proj.weight");
  EXPECT_EQ(specs[7].shape, (std::vector<std::int64_t>{5632, 2048}));
  EXPECT_EQ(specs[9].shape, (std::vector<std::int64_t>{2048, 5632}));  // down_proj
  EXPECT_EQ(specs.back().name, "lm_head.weight");
}

std::string parse_error(const json& document) {
  try {
    parse_llama_config(document, "models/x/config.json");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(LlamaConfigErrors, EachNamesTheFileAndTheKey) {
  const json base = json::parse(kTinyLlama);
  const auto with = [&](const std::string& key, const json& value) {
    json changed = base;
    if (value.is_discarded()) {
      changed.erase(key);
    } else {
      changed[key] = value;
    }
    return parse_error(changed);
  };
  const json removed(json::value_t::discarded);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with("hidden_size", removed), ": hidden_size: missing (required key)"},
      {with("hidden_size", -5), ": hidden_size: expected an integer in [1, 1048576], got -5"},
      {with("vocab_size", 0), ": vocab_size: expected an integer in [1, 16777216], got 0"},
      {with("num_hidden_layers", 2.5),
       ": num_hidden_layers: expected an integer in [1, 4096], got 2.5"},
      {with("intermediate_size", "5632"),
       ": intermediate_size: expected an integer in [1, 4194304], got \"5632\""},
      {with("max_position_embeddings", json::parse("2147483648")),
       ": max_position_embeddings: expected an integer in [1, 16777216], got 2147483648"},
      {with("num_attention_heads", json::parse("4294967328")),
       ": num_attention_heads: expected an integer in [1, 4096], got 4294967328"},
      {with("num_key_value_heads", 5),
       ": num_key_value_heads: 5 does not divide num_attention_heads 32"},
      {with("num_attention_heads", 30),
       ": num_attention_heads: 30 does not divide hidden_size 2048"},
      {with("architectures", json::array({"GPT2LMHeadModel"})),
       ": architectures: unknown architecture [\"GPT2LMHeadModel\"]"},
      {with("architectures", "LlamaForCausalLM"),
       ": architectures: expected a list of class names, got \"LlamaForCausalLM\""},
      {with("hidden_act", "gelu"), ": hidden_act: \"gelu\" is not supported (expected \"silu\")"},
      {with("rope_scaling", json{{"type", "linear"}, {"factor", 2.0}}),
       ": rope_scaling.rope_type: \"linear\" is not supported"},
      {with("rope_scaling", json{{"rope_type", "yarn"}, {"factor", 4.0}}),
       "\"yarn\" is not supported"},
      {with("rope_scaling", json{{"rope_type", "llama3"}, {"low_freq_factor", 1.0}}),
       ": rope_scaling.factor: missing (required key)"},
      {with("rope_scaling", 8), ": rope_scaling: expected an object or null, got 8"},
      {with("rms_norm_eps", -1e-5), ": rms_norm_eps: expected a positive number, got -1e-05"},
      {with("rope_theta", "10000"), ": rope_theta: expected a positive number, got \"10000\""},
      {with("tie_word_embeddings", 1), ": tie_word_embeddings: expected true or false, got 1"},
      {with("eos_token_id", json::array({2, "</s>"})),
       ": eos_token_id[1]: expected an integer in [0, 16777215], got \"</s>\""},
      {with("bos_token_id", 99999),
       ": bos_token_id: token id 99999 is outside the vocabulary of 32000"},
      {with("torch_dtype", "int8"), ": torch_dtype: \"int8\" is not float32, float16 or bfloat16"},
      {with("head_dim", 63), ": head_dim: 63 is odd"},
  };
  for (const auto& [message, expected] : cases) {
    EXPECT_NE(message.find(expected), std::string::npos)
        << "expected \"" << expected << "\" in \"" << message << "\"";
    EXPECT_EQ(message.rfind("models/x/config.json: ", 0), 0u) << message;
  }
  EXPECT_NE(parse_error(json::array()).find("expected a JSON object"), std::string::npos);
  json no_architecture = base;
  no_architecture.erase("architectures");
  no_architecture["model_type"] = "gpt2";
  EXPECT_NE(parse_error(no_architecture).find(": model_type: unknown model type \"gpt2\""),
            std::string::npos);
  no_architecture.erase("model_type");
  EXPECT_NE(parse_error(no_architecture).find(": architectures: missing"), std::string::npos);
}

TEST(LlamaConfigFile, ReadsAFileAndNamesItInErrors) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("qdgen_config_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << kQwen25;
  EXPECT_EQ(read_llama_config(path).architecture, "Qwen2ForCausalLM");
  std::ofstream(path) << "{\"vocab_size\": ";
  try {
    read_llama_config(path);
    ADD_FAILURE() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path.string() + ": vocab_size: not valid JSON"),
              std::string::npos);
  }
  std::filesystem::remove(path);
  EXPECT_THROW(read_llama_config(path), std::runtime_error);
}

TEST(LlamaConfigValidate, RejectsInconsistentConfigsBuiltInCode) {
  LlamaConfig config = parse(kQwen25);
  config.qkv_bias = false;
  EXPECT_THROW(validate_llama_config(config, "code"), std::runtime_error);
  config = parse(kTinyLlama);
  config.architecture = "Gemma";
  EXPECT_THROW(validate_llama_config(config, "code"), std::runtime_error);
}

}  // namespace
}  // namespace qdgen::inference
