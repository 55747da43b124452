#include "archive_spec_readers.hpp"

#include <cmath>

namespace qdgen::archive {

ThresholdOptions read_thresholds(common::JsonReader& section) {
  ThresholdOptions options;
  options.qd_offset = section.number("qd_offset", 0.0);
  options.learning_rate = section.number_in("learning_rate", 0.0, 1.0, 1.0);
  if (const auto threshold_min = section.optional("threshold_min"))
    options.threshold_min = threshold_min->number();
  if (options.learning_rate != 1.0 && std::isinf(options.threshold_min))
    section.fail("threshold_min", "missing; learning_rate " +
                                      common::describe_number(options.learning_rate) +
                                      " (CMA-MAE) needs a finite threshold_min");
  return options;
}

std::pair<double, double> read_range(const common::JsonValue& value) {
  const auto bounds = value.array("[lo, hi]", 2, 2);
  const double lo = bounds[0].number();
  const double hi = bounds[1].number();
  if (!(lo < hi)) value.expected("lo < hi");
  return {lo, hi};
}

}  // namespace qdgen::archive
