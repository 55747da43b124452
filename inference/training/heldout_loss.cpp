#include "heldout_loss.hpp"

#include <stdexcept>

namespace qdgen::inference::training {

double mean_window_loss(const std::vector<TokenId>& tokens,
                        const std::vector<std::pair<std::int64_t, std::int64_t>>& windows,
                        std::int64_t batch, const LossFn& loss, std::int64_t* targets_out) {
  at::NoGradGuard no_grad;
  double total = 0;
  std::int64_t count = 0;
  std::size_t i = 0;
  while (i < windows.size()) {
    const std::int64_t length = windows[i].second - windows[i].first;
    std::size_t j = i;
    while (j < windows.size() && j - i < static_cast<std::size_t>(batch) &&
           windows[j].second - windows[j].first == length) {
      ++j;
    }
    const auto rows = static_cast<std::int64_t>(j - i);
    at::Tensor inputs = at::empty({rows, length - 1}, at::kLong);
    at::Tensor targets = at::empty({rows, length - 1}, at::kLong);
    std::int64_t* in = inputs.data_ptr<std::int64_t>();
    std::int64_t* out = targets.data_ptr<std::int64_t>();
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t begin = windows[i + static_cast<std::size_t>(r)].first;
      for (std::int64_t t = 0; t + 1 < length; ++t) {
        in[r * (length - 1) + t] = tokens[static_cast<std::size_t>(begin + t)];
        out[r * (length - 1) + t] = tokens[static_cast<std::size_t>(begin + t + 1)];
      }
    }
    total += loss(inputs, targets, true).item<double>();
    count += rows * (length - 1);
    i = j;
  }
  if (targets_out != nullptr) *targets_out = count;
  if (count == 0) throw std::runtime_error("no held-out tokens to evaluate");
  return total / static_cast<double>(count);
}

}  // namespace qdgen::inference::training
