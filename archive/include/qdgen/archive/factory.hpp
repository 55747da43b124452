#pragma once
// Builds an archive from the "archive" section of an experiment config (keys in README,
// "Archive configuration"). Errors name the key path, e.g.
// "archive.dims[1].cells: expected a positive integer, got -3"; unknown keys are errors.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "qdgen/archive/archive.hpp"

namespace qdgen::archive {

std::unique_ptr<Archive> make_archive(const nlohmann::json& spec, const std::string& key_path);

// The same geometry with plain MAP-Elites thresholds (learning_rate 1, threshold_min
// -inf): the CMA-MAE result archive that keeps the true elites.
std::unique_ptr<Archive> make_result_archive(const nlohmann::json& spec,
                                             const std::string& key_path);

}  // namespace qdgen::archive
