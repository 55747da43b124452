#pragma once
// Training checkpoints: a folder with weights.safetensors (the trainable tensors),
// optimizer.safetensors (AdamW's moments) and state.json (step, data position, the run's
// fingerprint, recent losses), replaced as a whole each time.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "llama_trainable.hpp"

namespace qdgen::inference::training {

void save_checkpoint(const std::filesystem::path& folder,
                     const std::vector<TrainableParameter>& weights,
                     const std::vector<TrainableParameter>& optimizer, const nlohmann::json& state);

// Copies the saved tensors into `weights` and `optimizer` (names and shapes must match) and
// returns state.json. Throws naming the folder and the file or tensor at fault.
nlohmann::json load_checkpoint(const std::filesystem::path& folder,
                               const std::vector<TrainableParameter>& weights,
                               const std::vector<TrainableParameter>& optimizer);

bool checkpoint_exists(const std::filesystem::path& folder);

}  // namespace qdgen::inference::training
