#include "qdgen/llm/embedded_loader.hpp"

#include <dlfcn.h>

#include <mutex>
#include <stdexcept>

namespace qdgen::llm {
namespace {

// The module is loaded once and never unloaded: libtorch registers global state at load
// that does not survive dlclose.
void* load_module(const std::filesystem::path& module) {
  static std::mutex mutex;
  static void* loaded = nullptr;
  static std::filesystem::path loaded_path;
  std::lock_guard lock(mutex);
  if (loaded != nullptr) {
    if (loaded_path != module) {
      throw std::runtime_error(module.string() + ": another embedded-model module (" +
                               loaded_path.string() + ") is already loaded in this process");
    }
    return loaded;
  }
  if (!std::filesystem::exists(module)) {
    throw std::runtime_error(module.string() +
                             ": the embedded-model module is missing (qdgen was built without "
                             "libtorch, or the file was moved away from the qdgen binary)");
  }
  void* handle = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw std::runtime_error(module.string() + ": cannot load the embedded-model module (" +
                             (why ? why : "unknown error") + ")");
  }
  auto interface =
      reinterpret_cast<EmbeddedModuleInterfaceFn>(dlsym(handle, kEmbeddedModuleInterfaceSymbol));
  if (interface == nullptr || interface() != kEmbeddedModuleInterface) {
    dlclose(handle);
    throw std::runtime_error(module.string() +
                             ": not an embedded-model module of this qdgen build (rebuild qdgen)");
  }
  loaded = handle;
  loaded_path = module;
  return loaded;
}

}  // namespace

void* embedded_module_symbol(const std::filesystem::path& module, const char* symbol) {
  void* address = dlsym(load_module(module), symbol);
  if (address == nullptr) {
    throw std::runtime_error(module.string() + ": the embedded-model module has no " + symbol +
                             " (a module of another qdgen build; rebuild qdgen)");
  }
  return address;
}

std::unique_ptr<LanguageModel> load_embedded_model(const EmbeddedModelOptions& options,
                                                   const std::filesystem::path& module) {
  const auto create = reinterpret_cast<EmbeddedModelFactoryFn>(
      embedded_module_symbol(module, kEmbeddedModelFactorySymbol));
  return std::unique_ptr<LanguageModel>(create(options));
}

}  // namespace qdgen::llm
