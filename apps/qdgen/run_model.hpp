#pragma once
// The model `qdgen run` hands a text domain: the config's "model" section (or --model),
// loaded through the embedded-model module only when the domain asks for one.

#include "qdgen/engine/run.hpp"

namespace qdgen::cli {

// Loads a ModelConfig through the embedded module (model_flags.hpp). "~/" in paths is the
// home folder; relative adapter paths are relative to the model folder.
engine::ModelLoader run_model_loader();

}  // namespace qdgen::cli
