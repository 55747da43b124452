#include "qdgen/archive/archive.hpp"

#include "qdgen/archive/random_draws.hpp"

namespace qdgen::archive {

double Archive::elite_distance(const Elite& a, const Elite& b) const {
  return (a.candidate.measures - b.candidate.measures).norm();
}

std::vector<const Elite*> Archive::sample_uniform(std::size_t n, Rng& rng) const {
  const std::vector<const Elite*> all = elites();
  std::vector<const Elite*> picked;
  if (all.empty()) return picked;
  picked.reserve(n);
  for (std::size_t i = 0; i < n; ++i) picked.push_back(all[uniform_index(rng, all.size())]);
  return picked;
}

std::vector<const Elite*> Archive::sample_near(const Elite& anchor, std::size_t n, Rng& rng) const {
  std::vector<const Elite*> pool;
  std::vector<double> weights;
  for (const Elite* elite : elites()) {
    if (elite->cell == anchor.cell && elite->candidate.id == anchor.candidate.id) continue;
    const double d = elite_distance(anchor, *elite);
    pool.push_back(elite);
    weights.push_back(1.0 / (1.0 + d * d * d));
  }
  // Sequential draws without replacement: each pick removes its weight from the pool.
  std::vector<const Elite*> picked;
  while (picked.size() < n && !pool.empty()) {
    double total = 0.0;
    for (double w : weights) total += w;
    const double target = uniform01(rng) * total;
    std::size_t chosen = pool.size() - 1;  // round-off guard: the last one absorbs the rest
    double running = 0.0;
    for (std::size_t i = 0; i < pool.size(); ++i) {
      running += weights[i];
      if (target < running) {
        chosen = i;
        break;
      }
    }
    picked.push_back(pool[chosen]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(chosen));
    weights.erase(weights.begin() + static_cast<std::ptrdiff_t>(chosen));
  }
  return picked;
}

}  // namespace qdgen::archive
