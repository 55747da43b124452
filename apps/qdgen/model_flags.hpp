#pragma once
// The flags every model command shares (--model, --tokenizer, --device, --threads, --adapter,
// --mixture) and the one way commands get a model: the embedded backend's module, loaded on
// first use.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qdgen/llm/embedded_loader.hpp"
#include "qdgen/llm/language_model.hpp"

namespace qdgen::cli {

struct ModelFlags {
  std::string model;
  std::string tokenizer;
  std::string device = "auto";
  int threads = 0;
  std::vector<std::string> adapters;  // "DIR" or "NAME=DIR", in order
  std::string mixture;                // "W1,W2,...", one per adapter; empty: all 1
};

void add_model_flags(CLI::App* command, ModelFlags& flags);

// The --adapter folders, each named (NAME=DIR, or after its folder).
std::vector<llm::AdapterSource> adapter_sources(const ModelFlags& flags);
// The mixture every request of the command carries: --mixture's weights (default 1) for the
// adapters in --adapter order; empty without adapters. Throws naming --mixture when its weights
// are not finite numbers or not one per adapter.
llm::LoraMixture mixture_of(const ModelFlags& flags);
// [{"name": ..., "weight": ...}] of a mixture, for JSON output.
nlohmann::json mixture_json(const llm::LoraMixture& mixture);
// --model's value as a path: "default" is the cached default model's base folder (throws,
// saying to run qdgen model build-default, when it is not built or damaged); anything else
// is itself.
std::string resolve_model_path(const std::string& model);

// The embedded-model module beside the qdgen binary, or the one QDGEN_EMBEDDED_MODULE names.
std::filesystem::path embedded_module_path();

// Loads the model through the embedded-model module next to the qdgen binary (or the one
// QDGEN_EMBEDDED_MODULE names). Reads QDGEN_CPU_KERNELS and QDGEN_ATEN_FORWARD, which pick
// the model's CPU kernel set and its ATen path (for tests).
std::unique_ptr<llm::LanguageModel> load_model(const ModelFlags& flags);

}  // namespace qdgen::cli
