#pragma once
// A request's LoRA mixture (adapter name -> weight) as the forward pass takes it: a weight per
// loaded adapter, in load order.

#include <span>
#include <string>
#include <vector>

#include "qdgen/inference/generation.hpp"

namespace qdgen::inference {

// Adapters the mixture leaves out weigh 0. Throws std::invalid_argument, `what` first, when it
// names an adapter that is not loaded, names one twice, or gives a weight that is not finite.
std::vector<float> mixture_weights(const LoraMixture& mixture, std::span<const std::string> loaded,
                                   const std::string& what);

}  // namespace qdgen::inference
