// PEFT LoRA adapter folders: what PEFT writes reads back with PEFT's semantics (targets,
// patterns, rsLoRA scaling), qdgen's own writer round-trips exactly, every refusal names
// what is wrong, and merging adds weight * scale * B A.
#include "qdgen/inference/lora_adapter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "qdgen/inference/safetensors.hpp"
#include "random_llama.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(n);
  for (float& v : values) v = uniform(generator);
  return values;
}

// The adapter_config.json PEFT 0.13 writes for a LoRA on a Llama model (keys as it emits
// them, including ones qdgen does not use).
json peft_config(json target_modules) {
  return {{"alpha_pattern", json::object()},
          {"auto_mapping", nullptr},
          {"base_model_name_or_path", "tiny-llama"},
          {"bias", "none"},
          {"fan_in_fan_out", false},
          {"inference_mode", true},
          {"init_lora_weights", true},
          {"layer_replication", nullptr},
          {"layers_pattern", nullptr},
          {"layers_to_transform", nullptr},
          {"loftq_config", json::object()},
          {"lora_alpha", 16},
          {"lora_dropout", 0.05},
          {"megatron_config", nullptr},
          {"megatron_core", "megatron.core"},
          {"modules_to_save", nullptr},
          {"peft_type", "LORA"},
          {"r", 8},
          {"rank_pattern", json::object()},
          {"revision", nullptr},
          {"target_modules", std::move(target_modules)},
          {"task_type", "CAUSAL_LM"},
          {"use_dora", false},
          {"use_rslora", false}};
}

class LoraAdapterFolder : public ::testing::Test {
 public:  // the refusal table's set-up functions use these
  void SetUp() override {
    folder_ = fs::temp_directory_path() /
              (std::string("qdgen_lora_") +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
               std::to_string(::getpid()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    config_ = testing::tiny_llama_config();
  }
  void TearDown() override { fs::remove_all(folder_); }

  void write_config(const json& config) {
    std::ofstream(folder_ / "adapter_config.json") << config.dump(2);
  }

  // Tensors named as PEFT saves them, for each (layer, module path, rank); shapes follow the
  // base config unless `in_override` is set.
  struct Module {
    std::int64_t layer;
    LoraTarget target;
    std::int64_t rank;
  };
  void write_tensors(const std::vector<Module>& modules, std::int64_t in_override = 0,
                     const std::vector<std::string>& extra_names = {}) {
    storage_.clear();
    std::vector<TensorToWrite> tensors;
    std::vector<std::vector<std::int64_t>> shapes;
    std::vector<std::string> names;
    for (const Module& m : modules) {
      const std::string base = "base_model.model.model.layers." + std::to_string(m.layer) + "." +
                               lora_target_path(m.target);
      const std::int64_t in =
          in_override ? in_override : lora_target_in_features(config_, m.target);
      const std::int64_t out = lora_target_out_features(config_, m.target);
      names.push_back(base + ".lora_A.weight");
      shapes.push_back({m.rank, in});
      names.push_back(base + ".lora_B.weight");
      shapes.push_back({out, m.rank});
    }
    for (const std::string& extra : extra_names) {
      names.push_back(extra);
      shapes.push_back({2, 2});
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      storage_.push_back(random_values(static_cast<std::size_t>(shapes[i][0] * shapes[i][1]), i));
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      tensors.push_back(
          {names[i], DType::kF32, shapes[i], std::as_bytes(std::span<const float>(storage_[i]))});
    }
    write_safetensors(folder_ / "adapter_model.safetensors", tensors);
  }

  std::string read_error() {
    try {
      read_peft_adapter(folder_, config_, "a");
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  }

  std::vector<Module> every_module(std::int64_t rank, std::vector<LoraTarget> targets) {
    std::vector<Module> modules;
    for (std::int64_t layer = 0; layer < config_.num_hidden_layers; ++layer) {
      for (const LoraTarget t : targets) modules.push_back({layer, t, rank});
    }
    return modules;
  }

  fs::path folder_;
  LlamaConfig config_;
  std::vector<std::vector<float>> storage_;
};

TEST_F(LoraAdapterFolder, ReadsWhatPeftWritesWithItsScale) {
  write_config(peft_config({"v_proj", "q_proj"}));
  write_tensors(every_module(8, {LoraTarget::kQ, LoraTarget::kV}));
  const LoraAdapter adapter = read_peft_adapter(folder_, config_, "poems");
  EXPECT_EQ(adapter.name, "poems");
  ASSERT_EQ(adapter.modules.size(), 4u);
  EXPECT_EQ(adapter.modules[0].layer, 0);
  EXPECT_EQ(adapter.modules[0].target, LoraTarget::kQ);
  EXPECT_EQ(adapter.modules[1].target, LoraTarget::kV);
  EXPECT_EQ(adapter.modules[3].layer, 1);
  for (const LoraModule& m : adapter.modules) {
    EXPECT_EQ(m.rank, 8);
    EXPECT_DOUBLE_EQ(m.scale, 16.0 / 8.0);
  }
  // A holds exactly the bytes written (first tensor of the file: layer 0 q_proj A).
  EXPECT_EQ(adapter.modules[0].a, storage_[0]);
  EXPECT_EQ(adapter.modules[0].b, storage_[1]);
}

TEST_F(LoraAdapterFolder, RsLoraScalesByTheSquareRootOfTheRank) {
  json config = peft_config({"q_proj"});
  config["use_rslora"] = true;
  write_config(config);
  write_tensors(every_module(8, {LoraTarget::kQ}));
  const LoraAdapter adapter = read_peft_adapter(folder_, config_, "a");
  EXPECT_DOUBLE_EQ(adapter.modules[0].scale, 16.0 / std::sqrt(8.0));
}

TEST_F(LoraAdapterFolder, RankAndAlphaPatternsMatchModuleNameSuffixes) {
  json config = peft_config({"q_proj", "down_proj"});
  config["rank_pattern"] = {{"model.layers.1.self_attn.q_proj", 4}};
  config["alpha_pattern"] = {{"down_proj", 2}};
  write_config(config);
  write_tensors({{0, LoraTarget::kQ, 8},
                 {0, LoraTarget::kDown, 8},
                 {1, LoraTarget::kQ, 4},
                 {1, LoraTarget::kDown, 8}});
  const LoraAdapter adapter = read_peft_adapter(folder_, config_, "a");
  ASSERT_EQ(adapter.modules.size(), 4u);
  EXPECT_EQ(adapter.modules[2].rank, 4);
  EXPECT_DOUBLE_EQ(adapter.modules[2].scale, 16.0 / 4.0);
  EXPECT_DOUBLE_EQ(adapter.modules[0].scale, 16.0 / 8.0);
  EXPECT_DOUBLE_EQ(adapter.modules[1].scale, 2.0 / 8.0);
  EXPECT_DOUBLE_EQ(adapter.modules[3].scale, 2.0 / 8.0);
}

TEST_F(LoraAdapterFolder, TargetModulesAsARegularExpressionOrAllLinear) {
  write_config(peft_config(R"(.*\.(k_proj|up_proj))"));
  write_tensors(every_module(8, {LoraTarget::kK, LoraTarget::kUp}));
  EXPECT_EQ(read_peft_adapter(folder_, config_, "a").modules.size(), 4u);

  write_config(peft_config("all-linear"));
  write_tensors(every_module(8, {LoraTarget::kQ, LoraTarget::kK, LoraTarget::kV, LoraTarget::kO,
                                 LoraTarget::kGate, LoraTarget::kUp, LoraTarget::kDown}));
  EXPECT_EQ(read_peft_adapter(folder_, config_, "a").modules.size(), 14u);
}

TEST_F(LoraAdapterFolder, LayersToTransformLimitsTheTargets) {
  json config = peft_config({"q_proj"});
  config["layers_to_transform"] = {1};
  config["layers_pattern"] = "layers";
  write_config(config);
  write_tensors({{1, LoraTarget::kQ, 8}});
  const LoraAdapter adapter = read_peft_adapter(folder_, config_, "a");
  ASSERT_EQ(adapter.modules.size(), 1u);
  EXPECT_EQ(adapter.modules[0].layer, 1);

  write_tensors({{0, LoraTarget::kQ, 8}, {1, LoraTarget::kQ, 8}});
  EXPECT_NE(read_error().find("'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' "
                              "is for a module that adapter_config.json does not target"),
            std::string::npos)
      << read_error();
}

TEST_F(LoraAdapterFolder, QdgensWriterRoundTripsBitForBitWithPeftNames) {
  LoraAdapter adapter;
  adapter.name = "x";
  adapter.r = 8;
  adapter.lora_alpha = 16;
  adapter.use_rslora = true;
  std::uint64_t seed = 1;
  for (std::int64_t layer = 0; layer < config_.num_hidden_layers; ++layer) {
    for (const LoraTarget t : {LoraTarget::kQ, LoraTarget::kO, LoraTarget::kDown}) {
      LoraModule m;
      m.layer = layer;
      m.target = t;
      m.rank = (layer == 1 && t == LoraTarget::kO) ? 4 : 8;
      m.alpha = t == LoraTarget::kDown ? 4 : 16;
      m.scale = m.alpha / std::sqrt(static_cast<double>(m.rank));
      m.a = random_values(static_cast<std::size_t>(m.rank * lora_target_in_features(config_, t)),
                          seed++);
      m.b = random_values(static_cast<std::size_t>(m.rank * lora_target_out_features(config_, t)),
                          seed++);
      adapter.modules.push_back(m);
    }
  }
  write_peft_adapter(folder_, adapter);
  const auto file = SafetensorsFile::open(folder_ / "adapter_model.safetensors");
  EXPECT_NE(file->find("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"), nullptr);
  const LoraAdapter back = read_peft_adapter(folder_, config_, "x");
  ASSERT_EQ(back.modules.size(), adapter.modules.size());
  for (std::size_t i = 0; i < back.modules.size(); ++i) {
    EXPECT_EQ(back.modules[i].layer, adapter.modules[i].layer);
    EXPECT_EQ(back.modules[i].target, adapter.modules[i].target);
    EXPECT_EQ(back.modules[i].rank, adapter.modules[i].rank);
    EXPECT_DOUBLE_EQ(back.modules[i].scale, adapter.modules[i].scale);
    EXPECT_EQ(back.modules[i].a, adapter.modules[i].a);
    EXPECT_EQ(back.modules[i].b, adapter.modules[i].b);
  }
}

struct Refusal {
  std::string name;
  std::function<void(LoraAdapterFolder&)> set_up;
  std::string message;
};

TEST_F(LoraAdapterFolder, EveryRefusalNamesTheProblem) {
  const std::vector<Refusal> refusals = {
      {"missing tensor",
       [](LoraAdapterFolder& f) {
         f.write_config(peft_config({"q_proj"}));
         f.write_tensors({{0, LoraTarget::kQ, 8}});
       },
       "tensor 'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight' is missing"},
      {"another base",
       [](LoraAdapterFolder& f) {
         f.write_config(peft_config({"q_proj"}));
         f.write_tensors(f.every_module(8, {LoraTarget::kQ}), 48);
       },
       "'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [8, 48], the "
       "base model and rank 8 imply [8, 32]"},
      {"unknown module", [](LoraAdapterFolder& f) { f.write_config(peft_config({"c_attn"})); },
       "target_modules: 'c_attn': the model has no such module"},
      {"embedding target",
       [](LoraAdapterFolder& f) {
         f.write_config(peft_config({"embed_tokens", "q_proj"}));
       },
       "'embed_tokens': LoRA on the embeddings or lm_head is not supported"},
      {"embedding tensor",
       [](LoraAdapterFolder& f) {
         f.write_config(peft_config({"q_proj"}));
         f.write_tensors(f.every_module(8, {LoraTarget::kQ}), 0,
                         {"base_model.model.model.embed_tokens.lora_embedding_A"});
       },
       "is an embedding LoRA, which is not supported"},
      {"dora",
       [](LoraAdapterFolder& f) {
         json c = peft_config({"q_proj"});
         c["use_dora"] = true;
         f.write_config(c);
       },
       "use_dora: DoRA adapters are not supported"},
      {"other peft type",
       [](LoraAdapterFolder& f) {
         json c = peft_config({"q_proj"});
         c["peft_type"] = "PREFIX_TUNING";
         f.write_config(c);
       },
       "peft_type: expected \"LORA\", got \"PREFIX_TUNING\""},
      {"bias",
       [](LoraAdapterFolder& f) {
         json c = peft_config({"q_proj"});
         c["bias"] = "all";
         f.write_config(c);
       },
       "bias: expected \"none\", got \"all\""},
      {"modules to save",
       [](LoraAdapterFolder& f) {
         json c = peft_config({"q_proj"});
         c["modules_to_save"] = {"lm_head"};
         f.write_config(c);
       },
       "modules_to_save: fully trained modules are not supported"},
      {"bad rank",
       [](LoraAdapterFolder& f) {
         json c = peft_config({"q_proj"});
         c["r"] = 0;
         f.write_config(c);
       },
       "r: expected an integer in [1, 65536], got 0"},
      {"no config", [](LoraAdapterFolder&) {}, "no adapter_config.json"},
      {"pickle weights",
       [](LoraAdapterFolder& f) {
         f.write_config(peft_config({"q_proj"}));
         std::ofstream(f.folder_ / "adapter_model.bin") << "x";
       },
       "adapter_model.bin (PyTorch pickle) is not supported"},
  };
  for (const Refusal& r : refusals) {
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    r.set_up(*this);
    const std::string error = read_error();
    EXPECT_NE(error.find(r.message), std::string::npos) << r.name << ": " << error;
    EXPECT_EQ(error.rfind(folder_.string(), 0), 0u) << r.name << ": " << error;
  }
}

TEST_F(LoraAdapterFolder, MergingAddsWeightTimesScaleTimesBA) {
  auto tensors = testing::random_llama_tensors(config_, 5);
  const auto original = tensors;
  json config = peft_config({"o_proj"});
  config["r"] = 2;
  write_config(config);
  write_tensors(every_module(2, {LoraTarget::kO}));
  const LoraAdapter adapter = read_peft_adapter(folder_, config_, "a");
  merge_lora_adapters(config_, tensors, {&adapter}, {0.5});
  const std::string name = "model.layers.1.self_attn.o_proj.weight";
  const auto find = [&](const std::vector<OwnedTensor>& ts) {
    for (const auto& t : ts)
      if (t.name == name) return &t;
    return static_cast<const OwnedTensor*>(nullptr);
  };
  const OwnedTensor* merged = find(tensors);
  const OwnedTensor* base = find(original);
  const LoraModule& m = adapter.modules[1];
  const std::int64_t in = base->shape[1];
  for (std::int64_t o = 0; o < base->shape[0]; ++o) {
    for (std::int64_t k = 0; k < in; ++k) {
      double delta = 0;
      for (std::int64_t j = 0; j < m.rank; ++j)
        delta += double(m.b[o * m.rank + j]) * m.a[j * in + k];
      EXPECT_NEAR(merged->data[o * in + k], base->data[o * in + k] + 0.5 * m.scale * delta, 1e-6);
    }
  }
}

}  // namespace
}  // namespace qdgen::inference
