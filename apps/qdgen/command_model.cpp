// qdgen model merge: a base model plus a weighted mixture of LoRA adapters, written as one
// Hugging Face folder (what serving engines without per-request mixtures can load). The
// default model's subcommands (build-default, info) are in command_model_default.cpp.

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapter_flags.hpp"
#include "commands.hpp"
#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/llama2c.hpp"
#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/safetensors.hpp"
#include "qdgen/io/json_text.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/io/utf8.hpp"

namespace qdgen::cli {
namespace {

namespace fs = std::filesystem;
using inference::OwnedTensor;

struct MergeOptions {
  std::string model;
  std::vector<std::string> adapters;
  std::string mixture;
  std::string out;
  std::string dtype = "f32";
  bool overwrite = false;
  std::string format = "text";
};

struct BaseModel {
  inference::LlamaConfig config;
  std::vector<OwnedTensor> tensors;
};

BaseModel read_base(const fs::path& path) {
  if (fs::is_directory(path)) {
    const auto folder = inference::open_hf_folder(path);
    BaseModel base{folder.config, {}};
    for (const auto& spec : inference::llama_tensor_specs(folder.config)) {
      const inference::TensorView* view = folder.weights->find(spec.name);
      OwnedTensor tensor{spec.name, spec.shape, std::vector<float>(view->numel())};
      inference::convert_to_f32(*view, tensor.data);
      base.tensors.push_back(std::move(tensor));
    }
    return base;
  }
  if (!fs::exists(path)) {
    throw std::runtime_error(path.string() +
                             ": no such model (expected a model folder or a llama2.c .bin)");
  }
  auto checkpoint = inference::read_llama2c(path);
  return {checkpoint.config, std::move(checkpoint.tensors)};
}

inference::DType parse_dtype(const std::string& name) {
  if (name == "f32") return inference::DType::kF32;
  if (name == "f16") return inference::DType::kF16;
  if (name == "bf16") return inference::DType::kBF16;
  throw std::runtime_error("--dtype: expected f32, f16 or bf16, got '" + name + "'");
}

void run_merge(const MergeOptions& o) {
  const fs::path out(o.out);
  if (fs::exists(out) && !o.overwrite) {
    throw std::runtime_error(out.string() + ": already exists (pass --overwrite to replace it)");
  }
  const fs::path model(o.model);
  // --overwrite replaces the folder: never one that is, or holds, an input.
  io::refuse_folder_over_input(out, model);
  for (const std::string& argument : o.adapters)
    io::refuse_folder_over_input(out, adapter_argument(argument).path);
  const auto dtype = parse_dtype(o.dtype);
  BaseModel base = read_base(model);
  std::vector<inference::LoraAdapter> adapters;
  for (const std::string& argument : o.adapters) {
    const llm::AdapterSource source = adapter_argument(argument);
    adapters.push_back(inference::read_peft_adapter(source.path, base.config, source.name));
  }
  const auto weights = parse_mixture(o.mixture, adapters.size());
  std::vector<const inference::LoraAdapter*> pointers;
  for (const auto& adapter : adapters) pointers.push_back(&adapter);
  inference::merge_lora_adapters(base.config, base.tensors, pointers, weights);

  // The folder appears whole or not at all: written beside its final place, then renamed.
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(parent);
  const fs::path staging =
      parent / ("." + out.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(staging);
  try {
    inference::write_hf_folder(staging, base.config, base.tensors, dtype);
    if (fs::is_directory(model)) {
      for (const char* file : {"tokenizer.json", "tokenizer_config.json", "generation_config.json",
                               "special_tokens_map.json"}) {
        if (fs::exists(model / file)) fs::copy_file(model / file, staging / file);
      }
    }
    // The old folder steps aside before the new one takes its name, and is removed only
    // once it has: a failure at any point leaves one of the two whole at `out`.
    const fs::path previous =
        parent / ("." + out.filename().string() + ".previous-" + std::to_string(::getpid()));
    const bool replacing = fs::exists(fs::symlink_status(out));
    if (replacing) fs::rename(out, previous);
    try {
      fs::rename(staging, out);
    } catch (...) {
      if (replacing) fs::rename(previous, out);
      throw;
    }
    if (replacing) fs::remove_all(previous);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }

  nlohmann::json summary = {{"model", model.string()}, {"out", out.string()}, {"dtype", o.dtype}};
  summary["adapters"] = nlohmann::json::array();
  for (std::size_t i = 0; i < adapters.size(); ++i) {
    summary["adapters"].push_back({{"name", adapters[i].name},
                                   {"folder", adapters[i].folder.string()},
                                   {"weight", weights[i]},
                                   {"modules", adapters[i].modules.size()}});
  }
  if (o.format == "json") {
    std::cout << io::dump_json(summary) << "\n";
    return;
  }
  std::cout << "merged into " << io::valid_utf8(out.string()) << " (" << o.dtype << ")\n";
  for (std::size_t i = 0; i < adapters.size(); ++i) {
    std::cout << "  " << io::valid_utf8(adapters[i].name) << " x " << weights[i] << "  ("
              << adapters[i].modules.size() << " modules, "
              << io::valid_utf8(adapters[i].folder.string()) << ")\n";
  }
}

}  // namespace

void add_model_command(CLI::App& app) {
  auto* model = app.add_subcommand(
      "model", "Work with model folders and LoRA adapters, and the default model");
  model->require_subcommand(1);

  auto options = std::make_shared<MergeOptions>();
  auto* merge = model->add_subcommand(
      "merge",
      "Write base + sum_i w_i * (LoRA adapter i) as one Hugging Face model folder.\n"
      "Each adapter's delta is its scale (lora_alpha / r, or / sqrt(r) with rsLoRA) times B A.");
  merge
      ->add_option("--model", options->model,
                   "base model: a Hugging Face folder or a llama2.c .bin")
      ->required();
  merge
      ->add_option("--adapter", options->adapters,
                   "PEFT adapter folder, DIR or NAME=DIR (repeatable)")
      ->required();
  merge->add_option("--mixture", options->mixture,
                    "weights W1,W2,... in the order of the --adapter flags (default: all 1)");
  merge->add_option("--out", options->out, "folder to write")->required();
  merge->add_option("--dtype", options->dtype, "weights' dtype: f32, f16 or bf16")
      ->capture_default_str();
  merge->add_flag("--overwrite", options->overwrite, "replace --out if it exists");
  merge->add_option("--format", options->format, "summary: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  merge->callback([options] { run_merge(*options); });
  add_model_default_commands(*model);
}

}  // namespace qdgen::cli
