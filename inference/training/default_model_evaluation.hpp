#pragma once
// The default model's specialisation table: the base's and every expert's mean held-out
// log-likelihood per token (nats) on every category, with the training module's own forward
// (base + LoRA). The held-out documents of a category are those of its file that
// is_held_out picks: held out of the expert's training and of the base's alike.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "qdgen/inference/default_model.hpp"

namespace qdgen::inference::training {

// `folder` holds base/ and experts/<category>/ of `plan`. Returns {"unit", "categories",
// "heldout_tokens": {category: n}, "base": {category: ll}, "experts": {expert: {category:
// ll}}, "own_expert_best": {category: bool}}.
nlohmann::json evaluate_experts(const std::filesystem::path& folder, const DefaultModelPlan& plan,
                                std::int64_t batch);

}  // namespace qdgen::inference::training
