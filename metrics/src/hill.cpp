#include "qdgen/metrics/hill.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "spectrum.hpp"

namespace qdgen::metrics {

std::vector<double> hill_numbers(std::span<const double> abundances,
                                 std::span<const double> orders) {
  detail::check_orders(orders);
  if (abundances.empty()) throw std::runtime_error("the abundance vector is empty");
  bool any_positive = false;
  for (std::size_t i = 0; i < abundances.size(); ++i) {
    if (!std::isfinite(abundances[i]) || abundances[i] < 0) {
      throw std::runtime_error("abundance " + std::to_string(i + 1) + " is " +
                               detail::format_number(abundances[i]) +
                               "; expected a finite number >= 0");
    }
    any_positive = any_positive || abundances[i] > 0;
  }
  if (!any_positive) throw std::runtime_error("every abundance is 0; expected one above 0");
  // Every present species counts, however rare: no round-off threshold here.
  return detail::scores_of_spectrum(abundances, orders, 0.0);
}

}  // namespace qdgen::metrics
