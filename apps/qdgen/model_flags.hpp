#pragma once
// The flags every model command shares (--model, --tokenizer, --device, --threads) and the
// one way commands get a model: the embedded backend's module, loaded on first use.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "qdgen/llm/language_model.hpp"

namespace qdgen::cli {

struct ModelFlags {
  std::string model;
  std::string tokenizer;
  std::string device = "auto";
  int threads = 0;
};

void add_model_flags(CLI::App* command, ModelFlags& flags);

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
