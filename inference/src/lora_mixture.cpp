#include "lora_mixture.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace qdgen::inference {
namespace {

std::size_t adapter_index(const std::string& name, std::span<const std::string> loaded,
                          std::vector<bool>& named, const std::string& what) {
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
  named[index] = true;
  return index;
}

}  // namespace

MixtureWeights mixture_weights(const LoraMixture& mixture, std::span<const std::string> loaded,
                               std::int64_t layers, const std::string& what) {
  if (mixture.from_position < 0 && mixture.from_position != LoraMixture::kLastPromptToken) {
    throw std::invalid_argument(what + ": the LoRA mixture's from_position is " +
                                std::to_string(mixture.from_position) +
                                "; expected a position >= 0 or kLastPromptToken");
  }
  const auto count = loaded.size();
  std::vector<bool> named(count, false);
  std::vector<float> plain(count, 0.0f);
  for (const auto& [name, weight] : mixture.adapters) {
    const std::size_t index = adapter_index(name, loaded, named, what);
    if (!std::isfinite(weight)) {
      throw std::invalid_argument(what + ": the LoRA mixture's weight for adapter '" + name +
                                  "' is not a finite number");
    }
    plain[index] = static_cast<float>(weight);
  }
  if (mixture.layer_weights.empty()) return {1, std::move(plain)};
  MixtureWeights result{layers, {}};
  for (std::int64_t l = 0; l < layers; ++l) {
    result.weights.insert(result.weights.end(), plain.begin(), plain.end());
  }
  for (const auto& [name, weights] : mixture.layer_weights) {
    const std::size_t index = adapter_index(name, loaded, named, what);
    if (static_cast<std::int64_t>(weights.size()) != layers) {
      throw std::invalid_argument(what + ": the LoRA mixture gives adapter '" + name + "' " +
                                  std::to_string(weights.size()) +
                                  " layer weights; expected one per layer, " +
                                  std::to_string(layers));
    }
    for (std::int64_t l = 0; l < layers; ++l) {
      const double weight = weights[static_cast<std::size_t>(l)];
      if (!std::isfinite(weight)) {
        throw std::invalid_argument(what + ": the LoRA mixture's weight for adapter '" + name +
                                    "' in layer " + std::to_string(l) + " is not a finite number");
      }
      result.weights[static_cast<std::size_t>(l) * count + index] = static_cast<float>(weight);
    }
  }
  return result;
}

LoraMixture resolved_mixture(LoraMixture mixture, std::size_t prompt_length) {
  if (mixture.from_position == LoraMixture::kLastPromptToken) {
    mixture.from_position = static_cast<std::int64_t>(prompt_length) - 1;
  }
  return mixture;
}

void refuse_prompt_relative(const LoraMixture& mixture, const std::string& what) {
  if (mixture.from_position == LoraMixture::kLastPromptToken) {
    throw std::invalid_argument(what +
                                ": the LoRA mixture's from_position kLastPromptToken needs a "
                                "prompt; give a position");
  }
}

}  // namespace qdgen::inference
