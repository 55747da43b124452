#pragma once
// The mean loss per predicted token over windows of a token stream: the held-out evaluation
// of a training run, and the default model's table of each expert on each category.

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "qdgen/inference/tokenizer.hpp"
#include "training_pch.hpp"

namespace qdgen::inference::training {

// The loss of tokens [B, T] against targets [B, T] (mean, or sum with `sum`).
using LossFn = std::function<at::Tensor(const at::Tensor&, const at::Tensor&, bool sum)>;

// Each window [begin, end) predicts tokens begin+1 .. end-1 from the ones before; windows of
// equal length go through `loss` together, up to `batch` at a time. `targets`, when given,
// receives the number of tokens predicted.
double mean_window_loss(const std::vector<TokenId>& tokens,
                        const std::vector<std::pair<std::int64_t, std::int64_t>>& windows,
                        std::int64_t batch, const LossFn& loss, std::int64_t* targets = nullptr);

}  // namespace qdgen::inference::training
