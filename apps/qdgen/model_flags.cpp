#include "model_flags.hpp"

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "adapter_flags.hpp"
#include "qdgen/inference/default_model.hpp"
#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::cli {

// The module is installed beside the binary.
std::filesystem::path embedded_module_path() {
  if (const char* named = std::getenv("QDGEN_EMBEDDED_MODULE"); named && *named) return named;
  std::array<char, 4096> self{};
  const ssize_t length = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (length <= 0) throw std::runtime_error("cannot find the qdgen binary (/proc/self/exe)");
  return std::filesystem::path(std::string(self.data(), static_cast<std::size_t>(length)))
             .parent_path() /
         "qdgen-embedded.so";
}

// "default": the base of the cached default model (qdgen model build-default); a folder
// named default is ./default.
std::string resolve_model_path(const std::string& model) {
  if (model != "default") return model;
  const auto plan =
      inference::plan_default_model(inference::default_model_sources_from_environment());
  const auto state = inference::check_default_model(plan);
  if (!state.ready) {
    throw std::runtime_error("--model default: the default model in " + plan.folder.string() +
                             " is " + (state.problem == "not built yet" ? "" : "damaged: ") +
                             state.problem + " (run qdgen model build-default)");
  }
  return (plan.folder / "base").string();
}

void add_model_flags(CLI::App* command, ModelFlags& flags) {
  command
      ->add_option(
          "--model", flags.model,
          "model folder (config.json, safetensors, tokenizer.json), llama2.c .bin, or default "
          "(qdgen model build-default's base)")
      ->required();
  command->add_option("--tokenizer", flags.tokenizer,
                      "tokenizer.json or llama2.c tokenizer.bin (default: the folder's)");
  command->add_option("--device", flags.device, "auto, cpu or cuda")->capture_default_str();
  command->add_option("--threads", flags.threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  command->add_option("--adapter", flags.adapters,
                      "LoRA adapter folder (PEFT), DIR or NAME=DIR (repeatable), applied unmerged");
  command->add_option("--mixture", flags.mixture,
                      "adapter weights W1,W2,... in --adapter order (default: all 1)");
}

std::vector<llm::AdapterSource> adapter_sources(const ModelFlags& flags) {
  std::vector<llm::AdapterSource> sources;
  for (const std::string& argument : flags.adapters) sources.push_back(adapter_argument(argument));
  return sources;
}

llm::LoraMixture mixture_of(const ModelFlags& flags) {
  const std::vector<llm::AdapterSource> sources = adapter_sources(flags);
  if (sources.empty() && !flags.mixture.empty()) {
    throw std::runtime_error("--mixture: no --adapter to weigh");
  }
  const std::vector<double> weights = parse_mixture(flags.mixture, sources.size());
  llm::LoraMixture mixture;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    mixture.adapters.emplace_back(sources[i].name, weights[i]);
  }
  return mixture;
}

nlohmann::json mixture_json(const llm::LoraMixture& mixture) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, weight] : mixture.adapters) {
    list.push_back({{"name", name}, {"weight", weight}});
  }
  return list;
}

std::unique_ptr<llm::LanguageModel> load_model(const ModelFlags& flags) {
  llm::EmbeddedModelOptions options;
  options.model = resolve_model_path(flags.model);
  options.tokenizer = flags.tokenizer;
  options.device = flags.device;
  options.threads = flags.threads;
  options.adapters = adapter_sources(flags);
  if (const char* kernels = std::getenv("QDGEN_CPU_KERNELS"); kernels && *kernels) {
    options.cpu_kernels = kernels;
  }
  if (const char* aten = std::getenv("QDGEN_ATEN_FORWARD")) {
    options.aten_forward = std::string(aten) == "1";
  }
  return llm::load_embedded_model(options, embedded_module_path());
}

}  // namespace qdgen::cli
