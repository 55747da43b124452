// The embedded-model module (qdgen-embedded.so): the one part of the qdgen command line that
// links libtorch, loaded by qdgen::llm::load_embedded_model when a command needs a model.

#include "qdgen/inference/embedded_model.hpp"
#include "qdgen/llm/embedded_loader.hpp"

extern "C" __attribute__((visibility("default"))) int qdgen_embedded_module_interface() {
  return qdgen::llm::kEmbeddedModuleInterface;
}

extern "C" __attribute__((visibility("default"))) qdgen::llm::LanguageModel*
qdgen_embedded_model_create(const qdgen::llm::EmbeddedModelOptions& options) {
  return qdgen::inference::EmbeddedLanguageModel::load(options).release();
}
