#include "spectrum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "qdgen/metrics/vendi.hpp"

namespace qdgen::metrics {
namespace detail {

std::string format_number(double value) {
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

namespace {

// The Renyi entropy log(sum p^q) / (1 - q) of a distribution p (sums to 1 up to round-off;
// entries are > 0, or 0 where a tiny value underflowed when it was normalised: those add
// nothing at q > 0, as p log p and p^q tend to 0).
double renyi_entropy(const std::vector<double>& p, double q) {
  if (q == 0) return std::log(static_cast<double>(p.size()));
  const double max_p = *std::max_element(p.begin(), p.end());
  if (std::isinf(q)) return -std::log(max_p);
  if (q == 1) {
    double entropy = 0;
    for (double v : p) {
      if (v > 0) entropy -= v * std::log(v);
    }
    return entropy;
  }
  const double r = q - 1;
  if (std::abs(r) < 0.5) {
    // Near q = 1 both log(sum p^q) and 1 - q vanish. Writing sum p^q as the p-weighted mean
    // of exp(r log p) and taking expm1/log1p keeps full precision and tends to Shannon.
    double weight = 0, mean_expm1 = 0;
    for (double v : p) {
      if (v == 0) continue;
      weight += v;
      mean_expm1 += v * std::expm1(r * std::log(v));
    }
    return -std::log1p(mean_expm1 / weight) / r;
  }
  // Far from 1, factoring out the largest term keeps large q from underflowing.
  double sum = 0;
  for (double v : p) sum += std::pow(v / max_p, q);
  return (q * std::log(max_p) + std::log(sum)) / (1 - q);
}

}  // namespace

void check_orders(std::span<const double> orders) {
  for (double q : orders) {
    if (std::isnan(q) || q < 0) {
      throw std::runtime_error("order q = " + format_number(q) +
                               " is invalid; expected q >= 0 (or inf)");
    }
  }
}

std::vector<double> scores_of_spectrum(std::span<const double> values,
                                       std::span<const double> orders, double relative_cut) {
  check_orders(orders);
  if (values.empty()) throw std::runtime_error("the spectrum is empty; expected eigenvalues");
  double max_value = -std::numeric_limits<double>::infinity();
  for (double v : values) {
    if (!std::isfinite(v)) {
      throw std::runtime_error("eigenvalue " + format_number(v) + " is not finite");
    }
    max_value = std::max(max_value, v);
  }
  if (max_value <= 0) {
    throw std::runtime_error("the spectrum has no positive value (largest " +
                             format_number(max_value) + ")");
  }
  // Divided by the largest value before summing: abundances of 1e308 would overflow the sum.
  const double cut = relative_cut * max_value;
  std::vector<double> kept;
  double sum = 0;
  for (double v : values) {
    if (v > cut) {
      kept.push_back(v / max_value);
      sum += kept.back();
    }
  }
  for (double& v : kept) v /= sum;
  std::vector<double> scores;
  scores.reserve(orders.size());
  for (double q : orders) {
    // Order 0 counts the kept values: report the count itself, not exp(log(count)), which can
    // come back as 768.0000000000001.
    scores.push_back(q == 0 ? static_cast<double>(kept.size()) : std::exp(renyi_entropy(kept, q)));
  }
  return scores;
}

}  // namespace detail

double relative_eigenvalue_cut(std::int64_t n, std::int64_t d) {
  return static_cast<double>(std::max(n, d)) * std::numeric_limits<double>::epsilon();
}

std::vector<double> vendi_scores_of_spectrum(std::span<const double> eigenvalues,
                                             std::span<const double> orders) {
  const auto [min_it, max_it] = std::minmax_element(eigenvalues.begin(), eigenvalues.end());
  if (min_it != eigenvalues.end() && std::isfinite(*min_it) && std::isfinite(*max_it) &&
      *min_it < -kNegativeRoundOff * std::abs(*max_it)) {
    throw std::runtime_error("eigenvalue " + detail::format_number(*min_it) +
                             " is negative beyond round-off; expected a positive semi-definite "
                             "kernel's spectrum");
  }
  const auto size = static_cast<std::int64_t>(eigenvalues.size());
  return detail::scores_of_spectrum(eigenvalues, orders, relative_eigenvalue_cut(size, size));
}

}  // namespace qdgen::metrics
