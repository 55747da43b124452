#include "run_model.hpp"

#include <cstdlib>
#include <string>

#include "model_flags.hpp"
#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::cli {

namespace {

std::filesystem::path expand_home(const std::string& path) {
  if (path.rfind("~/", 0) == 0)
    if (const char* home = std::getenv("HOME"); home && *home)
      return std::filesystem::path(home) / path.substr(2);
  return path;
}

}  // namespace

engine::ModelLoader run_model_loader() {
  return [](const engine::ModelConfig& model) {
    llm::EmbeddedModelOptions options;
    // "default": the cached default model's base (qdgen model build-default); its experts
    // lie in ../experts/NAME beside it.
    options.model = expand_home(resolve_model_path(model.path));
    options.device = model.device;
    options.threads = model.threads;
    // An adapter's relative path is the model folder's: a model and its experts travel
    // together (the default model's cache folder holds both).
    for (const auto& [name, path] : model.adapters) {
      std::filesystem::path adapter = expand_home(path);
      if (adapter.is_relative()) adapter = options.model / adapter;
      options.adapters.push_back({name, adapter.lexically_normal()});
    }
    if (const char* kernels = std::getenv("QDGEN_CPU_KERNELS"); kernels && *kernels)
      options.cpu_kernels = kernels;
    return llm::load_embedded_model(options, embedded_module_path());
  };
}

}  // namespace qdgen::cli
