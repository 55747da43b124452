#include "lora_mixture.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qdgen::inference {

std::vector<float> mixture_weights(const LoraMixture& mixture, std::span<const std::string> loaded,
                                   const std::string& what) {
  std::vector<float> weights(loaded.size(), 0.0f);
  std::vector<bool> named(loaded.size(), false);
  for (const auto& [name, weight] : mixture.adapters) {
    const auto found = std::find(loaded.begin(), loaded.end(), name);
    if (found == loaded.end()) {
      std::string known;
      for (const std::string& n : loaded) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument(
          what + ": the LoRA mixture names adapter '" + name + "', which is not loaded (" +
          (loaded.empty() ? std::string("the model has no adapters") : "loaded: " + known) + ")");
    }
    const auto index = static_cast<std::size_t>(found - loaded.begin());
    if (named[index]) {
      throw std::invalid_argument(what + ": the LoRA mixture names adapter '" + name + "' twice");
    }
    if (!std::isfinite(weight)) {
      throw std::invalid_argument(what + ": the LoRA mixture's weight for adapter '" + name +
                                  "' is not a finite number");
    }
    named[index] = true;
    weights[index] = static_cast<float>(weight);
  }
  return weights;
}

}  // namespace qdgen::inference
