#include "qdgen/engine/emitter.hpp"

namespace qdgen::engine {

std::vector<const archive::Elite*> EmitterContext::sample_uniform(std::size_t n) {
  std::vector<const archive::Elite*> picked;
  if (elites.empty()) return picked;
  picked.reserve(n);
  for (std::size_t i = 0; i < n; ++i) picked.push_back(elites[uniform_index(rng, elites.size())]);
  return picked;
}

}  // namespace qdgen::engine
