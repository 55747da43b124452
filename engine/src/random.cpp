#include "qdgen/engine/random.hpp"

#include <cmath>
#include <numbers>

namespace qdgen::engine {

namespace {
// Box-Muller on (0, 1]: 1 - u avoids log(0).
inline void normal_pair(Rng& rng, double& a, double& b) {
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform01(rng)));
  const double angle = 2.0 * std::numbers::pi * uniform01(rng);
  a = radius * std::cos(angle);
  b = radius * std::sin(angle);
}
}  // namespace

void fill_standard_normal(Rng& rng, std::span<double> out) {
  std::size_t i = 0;
  for (; i + 1 < out.size(); i += 2) normal_pair(rng, out[i], out[i + 1]);
  if (i < out.size()) {
    double spare = 0.0;
    normal_pair(rng, out[i], spare);
  }
}

double standard_normal(Rng& rng) {
  double value = 0.0;
  fill_standard_normal(rng, std::span<double>(&value, 1));
  return value;
}

}  // namespace qdgen::engine
