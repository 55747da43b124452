#include "qdgen/archive/archive.hpp"

namespace qdgen::archive {

std::vector<const Elite*> Archive::sample_uniform(std::size_t n, Rng& rng) const {
  const std::vector<const Elite*> all = elites();
  std::vector<const Elite*> picked;
  if (all.empty()) return picked;
  picked.reserve(n);
  // uniform_int_distribution is implementation-defined across standard libraries; draw
  // indices from raw 64-bit words so a seed means the same parents everywhere.
  for (std::size_t i = 0; i < n; ++i) picked.push_back(all[rng() % all.size()]);
  return picked;
}

}  // namespace qdgen::archive
