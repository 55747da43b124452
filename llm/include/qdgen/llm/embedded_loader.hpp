#pragma once
// The embedded Llama model lives in a module of its own (qdgen-embedded.so, which links
// libtorch), loaded the first time a command needs a model: commands that need none never
// pay libtorch's start-up (0.4 s of symbol binding).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "qdgen/llm/language_model.hpp"

namespace qdgen::llm {

// A LoRA adapter to load beside the base: a PEFT folder (adapter_config.json +
// adapter_model.safetensors). Requests name it in their LoraMixture.
struct AdapterSource {
  std::string name;  // empty: the folder's name
  std::filesystem::path path;
};

struct EmbeddedModelOptions {
  std::filesystem::path model;      // a model folder (config.json + safetensors) or a llama2.c .bin
  std::filesystem::path tokenizer;  // empty: <model folder>/tokenizer.json (a .bin needs one)
  std::string device = "auto";      // "auto" (CUDA when available), "cpu", "cuda"
  int threads = 0;                  // CPU threads of the model's own pool; 0: all cores
  // CPU kernel set: "auto" (the widest the CPU has), "avx512", "avx2" or "portable".
  std::string cpu_kernels = "auto";
  // On the CPU, run the ATen operations that CUDA runs instead of qdgen's kernels (to test
  // that path on a machine without a GPU).
  bool aten_forward = false;
  // Memory for prompt prefixes' KV kept across calls; 0 keeps none beyond each call.
  std::int64_t prefix_cache_bytes = std::int64_t{256} << 20;
  std::int64_t max_batch = 64;  // sequences decoded together
  std::vector<AdapterSource> adapters;  // applied unmerged, mixed per request
};

// Loads `options.model` through the module at `module` (loaded once per process, kept).
// Throws std::runtime_error naming the module when it is missing or of another build.
std::unique_ptr<LanguageModel> load_embedded_model(const EmbeddedModelOptions& options,
                                                   const std::filesystem::path& module);

// The address of the entry point `symbol` (C linkage) of the module at `module` (loaded
// once per process, kept), for entry points beyond the model factory, e.g. training. Throws
// naming the module and the symbol when either is missing.
void* embedded_module_symbol(const std::filesystem::path& module, const char* symbol);

// The module's entry point (C linkage, looked up by name) and the interface version both
// sides must agree on.
inline constexpr int kEmbeddedModuleInterface = 2;
using EmbeddedModuleInterfaceFn = int (*)();
using EmbeddedModelFactoryFn = LanguageModel* (*)(const EmbeddedModelOptions& options);
inline constexpr const char* kEmbeddedModuleInterfaceSymbol = "qdgen_embedded_module_interface";
inline constexpr const char* kEmbeddedModelFactorySymbol = "qdgen_embedded_model_create";

}  // namespace qdgen::llm
