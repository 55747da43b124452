// The embedded-model module (qdgen-embedded.so): the one part of the qdgen command line that
// links libtorch, loaded by qdgen::llm when a command needs a model or trains one.

#include "qdgen/inference/embedded_model.hpp"
#include "qdgen/inference/training.hpp"
#include "qdgen/llm/embedded_loader.hpp"

extern "C" __attribute__((visibility("default"))) int qdgen_embedded_module_interface() {
  return qdgen::llm::kEmbeddedModuleInterface;
}

extern "C" __attribute__((visibility("default"))) qdgen::llm::LanguageModel*
qdgen_embedded_model_create(const qdgen::llm::EmbeddedModelOptions& options) {
  return qdgen::inference::EmbeddedLanguageModel::load(options).release();
}

extern "C" __attribute__((visibility("default"))) int qdgen_training_interface() {
  return qdgen::inference::kTrainingInterface;
}

extern "C" __attribute__((visibility("default"))) void qdgen_train_base(
    const qdgen::inference::BaseTrainingOptions& options,
    const qdgen::inference::TrainingProgressFn& progress,
    qdgen::inference::TrainingResult& result) {
  result = qdgen::inference::train_base(options, progress);
}

extern "C" __attribute__((visibility("default"))) void qdgen_train_lora(
    const qdgen::inference::LoraTrainingOptions& options,
    const qdgen::inference::TrainingProgressFn& progress,
    qdgen::inference::TrainingResult& result) {
  result = qdgen::inference::train_lora(options, progress);
}

extern "C" __attribute__((visibility("default"))) void qdgen_build_default_model(
    const qdgen::inference::DefaultModelBuild& build,
    const qdgen::inference::DefaultModelProgressFn& progress, nlohmann::json& manifest) {
  manifest = qdgen::inference::build_default_model(build, progress);
}
