#pragma once
// Internal: the Vendi score family of a spectrum with an explicit counting cut, shared by the
// Vendi score (relative_eigenvalue_cut, for round-off) and Hill numbers (every positive
// abundance counts).

#include <span>
#include <string>
#include <vector>

namespace qdgen::metrics::detail {

// Shortest round-trip-ish text of a number for error messages (10 significant digits).
std::string format_number(double value);

// Throws naming the first order that is negative or NaN.
void check_orders(std::span<const double> orders);

// Values <= relative_cut * max are dropped, the rest normalised to sum 1.
std::vector<double> scores_of_spectrum(std::span<const double> values,
                                       std::span<const double> orders, double relative_cut);

}  // namespace qdgen::metrics::detail
