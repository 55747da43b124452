#include "prefix_sharing.hpp"

#include <algorithm>
#include <numeric>

namespace qdgen::inference {

std::vector<std::size_t> shared_prefix_lengths(std::span<const std::vector<std::int32_t>> prompts,
                                               std::size_t min_length) {
  // In lexicographic order, a prompt's longest common prefix with any other prompt is the
  // longer of its common prefixes with its two neighbours.
  std::vector<std::size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return prompts[a] < prompts[b]; });
  const auto common = [&](std::size_t a, std::size_t b) {
    const auto& x = prompts[a];
    const auto& y = prompts[b];
    return static_cast<std::size_t>(
        std::mismatch(x.begin(), x.begin() + std::min(x.size(), y.size()), y.begin()).first -
        x.begin());
  };
  std::vector<std::size_t> lengths(prompts.size(), 0);
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    const std::size_t shared = common(order[i], order[i + 1]);
    lengths[order[i]] = std::max(lengths[order[i]], shared);
    lengths[order[i + 1]] = std::max(lengths[order[i + 1]], shared);
  }
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const std::size_t cap = prompts[i].empty() ? 0 : prompts[i].size() - 1;
    lengths[i] = std::min(lengths[i], cap);
    if (lengths[i] < min_length) lengths[i] = 0;
  }
  return lengths;
}

}  // namespace qdgen::inference
