#include "model_flags.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

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
      ->capture_default_str();
}

std::unique_ptr<llm::LanguageModel> load_model(const ModelFlags& flags) {
  llm::EmbeddedModelOptions options;
  options.model = resolve_model_path(flags.model);
  options.tokenizer = flags.tokenizer;
  options.device = flags.device;
  options.threads = flags.threads;
  if (const char* kernels = std::getenv("QDGEN_CPU_KERNELS"); kernels && *kernels) {
    options.cpu_kernels = kernels;
  }
  if (const char* aten = std::getenv("QDGEN_ATEN_FORWARD")) {
    options.aten_forward = std::string(aten) == "1";
  }
  return llm::load_embedded_model(options, embedded_module_path());
}

}  // namespace qdgen::cli
