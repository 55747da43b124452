#pragma once
// A request's LoRA mixture (adapter name -> weight, or a weight per layer, from a position on)
// as the forward pass takes it: weights per loaded adapter, in load order.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qdgen/inference/generation.hpp"

namespace qdgen::inference {

struct MixtureWeights {
  std::int64_t layers = 1;     // 1: the same weights in every layer; else the model's layers
  std::vector<float> weights;  // [layers, loaded adapters]
};

// Adapters the mixture leaves out weigh 0. Throws std::invalid_argument, `what` first, when it
// names an adapter that is not loaded, names one twice, gives a weight that is not finite, a
// number of layer weights that is not `layers`, or a from_position below 0 (other than
// LoraMixture::kLastPromptToken, which needs a prompt: see resolved_mixture).
MixtureWeights mixture_weights(const LoraMixture& mixture, std::span<const std::string> loaded,
                               std::int64_t layers, const std::string& what);

// `mixture` with kLastPromptToken made the position of the last of `prompt_length` tokens.
LoraMixture resolved_mixture(LoraMixture mixture, std::size_t prompt_length);

// Throws, `what` first, when the mixture asks for kLastPromptToken where there is no prompt
// (embed, forward_logits).
void refuse_prompt_relative(const LoraMixture& mixture, const std::string& what);

}  // namespace qdgen::inference
