#include "qdgen/engine/random.hpp"

#include <array>
#include <cmath>

namespace qdgen::engine {

namespace {

// Marsaglia & Tsang (2000), "The Ziggurat Method for Generating Random Variables": 256
// layers of equal area kArea under f(x) = exp(-x^2 / 2); layer 0 is the base strip with
// the tail beyond kTailStart.
constexpr double kTailStart = 3.6541528853610088;
constexpr double kArea = 0.00492867323399;
constexpr int kLayers = 256;

struct ZigguratTables {
  std::array<double, kLayers + 1> x;  // layer i spans |x| < x[i], between heights f[i], f[i+1]
  std::array<double, kLayers + 1> f;
};

ZigguratTables make_tables() {
  ZigguratTables t;
  auto f = [](double x) { return std::exp(-0.5 * x * x); };
  t.x[0] = kArea / f(kTailStart);  // the base strip's width if it were a rectangle
  t.x[1] = kTailStart;
  for (int i = 2; i < kLayers; ++i)
    t.x[i] = std::sqrt(-2.0 * std::log(kArea / t.x[i - 1] + f(t.x[i - 1])));
  t.x[kLayers] = 0.0;
  for (int i = 0; i <= kLayers; ++i) t.f[i] = f(t.x[i]);
  return t;
}

const ZigguratTables kTables = make_tables();

// Uniform on (0, 1]: log() of it is finite.
double uniform_open0(NoiseRng& rng) {
  return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;
}

// Marsaglia's tail algorithm for |x| > kTailStart.
double tail(NoiseRng& rng, bool negative) {
  double x = 0.0, y = 0.0;
  do {
    x = std::log(uniform_open0(rng)) / kTailStart;
    y = std::log(uniform_open0(rng));
  } while (-2.0 * y < x * x);
  return negative ? x - kTailStart : kTailStart - x;
}

struct Draw {
  double value;
  bool accepted;
  NoiseRng rng;
};

// The rare branches (about 1 % of draws): the base strip's tail and the wedges. The
// generator goes in and out by value so that the fast path's copy never has its address
// taken and stays in registers.
[[gnu::noinline]] Draw slow_path(NoiseRng rng, int layer, double u, double x) {
  if (layer == 0) {
    const double value = tail(rng, u < 0.0);
    return {value, true, rng};
  }
  const double y = kTables.f[layer + 1] + (kTables.f[layer] - kTables.f[layer + 1]) *
                                              (static_cast<double>(rng() >> 11) * 0x1.0p-53);
  return {x, y < std::exp(-0.5 * x * x), rng};
}

inline double ziggurat(NoiseRng& rng) {
  for (;;) {
    const std::uint64_t bits = rng();
    // The layer from the low 8 bits, the position in it from the high 52: independent bits.
    const int i = static_cast<int>(bits & 0xff);
    const double u = 2.0 * std::bit_cast<double>((bits >> 12) | 0x3FF0000000000000ULL) - 3.0;
    const double x = u * kTables.x[i];
    if (std::abs(x) < kTables.x[i + 1]) return x;
    const Draw draw = slow_path(rng, i, u, x);
    rng = draw.rng;
    if (draw.accepted) return draw.value;
  }
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

NoiseRng::NoiseRng(std::uint64_t seed) {
  for (auto& word : s_) word = splitmix64(seed);
}

void fill_standard_normal(NoiseRng& rng, std::span<double> out) {
  // A local copy keeps the state in registers: through the reference the compiler must
  // assume each store to `out` may change it.
  NoiseRng local = rng;
  for (double& value : out) value = ziggurat(local);
  rng = local;
}

double standard_normal(NoiseRng& rng) {
  return ziggurat(rng);
}

}  // namespace qdgen::engine
