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
  std::string mixture_file;           // JSON {"NAME": weight or [weight per layer]}
  std::string mixture_from;           // a token position or "prompt"; empty: 0 (every position)
};

void add_model_flags(CLI::App* command, ModelFlags& flags);

// The --adapter folders, each named (NAME=DIR, or after its folder).
std::vector<llm::AdapterSource> adapter_sources(const ModelFlags& flags);
// The mixture every request of the command carries: --mixture's weights (default 1), or
// --mixture-file's, for the adapters in --adapter order, from --mixture-from's position; empty
// without adapters. Throws naming the flag at fault (weights that are not finite numbers or not
// one per adapter, both --mixture and --mixture-file, a bad position).
llm::LoraMixture mixture_of(const ModelFlags& flags);
// The mixture for JSON output, on `line`: "adapters": [{"name", "weight"}, ..., then {"name",
// "layer_weights"}, ...] and, when it does not apply from position 0, "mixture_from": the
// position or "prompt". Nothing for the empty mixture.
void add_mixture_json(nlohmann::json& line, const llm::LoraMixture& mixture);
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
