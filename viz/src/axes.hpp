#pragma once
// What both figures draw around their data: tick positions and labels, numbers written short.

#include <string>
#include <vector>

namespace qdgen::viz {

// "0.005", "1.2e+04", "37": up to 4 significant digits, no trailing zeros.
std::string short_number(double value);
// About `count` round values covering [lo, hi] (1, 2 or 5 times a power of ten apart).
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

}  // namespace qdgen::viz
