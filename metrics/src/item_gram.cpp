#include "item_gram.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "blas.hpp"
#include "item_checks.hpp"
#include "spectrum.hpp"

namespace qdgen::metrics::detail {
namespace {

// Squared norms inside this range are computed accurately without rescaling the row.
constexpr double kSafeLow = 1e-280;
constexpr double kSafeHigh = 1e280;

// Items per block: about 2 MB of doubles, so that a block stays in the core's L2 cache
// between scaling and dsyrk (measured on 20,000 x 768: see README, Performance).
constexpr std::int64_t kBlockBytes = std::int64_t{2} << 20;

template <typename Float>
double load(const std::byte* x, std::int64_t k) {
  Float value;
  std::memcpy(&value, x + k * static_cast<std::int64_t>(sizeof(Float)), sizeof value);
  return value;
}

// Eight partial sums, so that the loop vectorises: one running sum is a chain of dependent
// additions that the compiler may not reorder (no -ffast-math).
template <typename Float>
double sum_of_squares(const std::byte* x, std::int64_t d) {
  double partial[8] = {};
  std::int64_t j = 0;
  for (; j + 8 <= d; j += 8) {
    for (int lane = 0; lane < 8; ++lane) {
      const double v = load<Float>(x, j + lane);
      partial[lane] += v * v;
    }
  }
  double sum = 0;
  for (; j < d; ++j) sum += load<Float>(x, j) * load<Float>(x, j);
  for (double p : partial) sum += p;
  return sum;
}

template <typename Float>
void scaled_copy(const std::byte* x, std::int64_t d, double factor, double* y) {
  for (std::int64_t j = 0; j < d; ++j) y[j] = load<Float>(x, j) * factor;
}

std::runtime_error zero_row(std::int64_t row) {
  return std::runtime_error("row " + std::to_string(row + 1) +
                            " is a zero vector; the cosine kernel needs non-zero rows");
}

std::runtime_error all_zero() {
  return std::runtime_error(
      "every item with weight is a zero vector; the linear kernel needs a non-zero row");
}

template <typename Float>
void convert(const std::byte* source, std::int64_t count, double* out) {
  if constexpr (sizeof(Float) == sizeof(double)) {
    std::memcpy(out, source, static_cast<std::size_t>(count) * sizeof(double));
  } else {
    for (std::int64_t k = 0; k < count; ++k) {
      Float value;
      std::memcpy(&value, source + k * static_cast<std::int64_t>(sizeof(Float)), sizeof value);
      out[k] = value;
    }
  }
}

// Items [first, first + count) as doubles. Row-major sources fill a d x count buffer (one
// item per column, contiguous); column-major ones a count x d buffer (one item per row), so
// that both copy contiguous runs.
void gather(const MatrixView& x, std::int64_t first, std::int64_t count, double* buffer) {
  const std::int64_t size = x.type == ScalarType::float64 ? 8 : 4;
  const auto copy = [&](std::int64_t offset, std::int64_t length, double* out) {
    if (x.type == ScalarType::float64) {
      convert<double>(x.data + offset * size, length, out);
    } else {
      convert<float>(x.data + offset * size, length, out);
    }
  };
  if (x.row_major) {
    copy(first * x.cols, count * x.cols, buffer);
  } else {
    for (std::int64_t j = 0; j < x.cols; ++j) copy(j * x.rows + first, count, buffer + j * count);
  }
}

// The largest |x_ij|, after checking that every value is finite.
double largest_magnitude(const MatrixView& x) {
  const std::int64_t block = std::max<std::int64_t>(1, kBlockBytes / 8 / x.cols);
  std::vector<double> buffer(static_cast<std::size_t>(block * x.cols));
  double largest = 0;
  bool finite = true;
  for (std::int64_t first = 0; first < x.rows; first += block) {
    const std::int64_t count = std::min(block, x.rows - first);
    gather(x, first, count, buffer.data());
    for (std::int64_t k = 0; k < count * x.cols; ++k) {
      const double magnitude = std::abs(buffer[static_cast<std::size_t>(k)]);
      finite = finite && magnitude <= DBL_MAX;
      largest = std::max(largest, magnitude);
    }
  }
  if (!finite) throw_first_non_finite(x);
  return largest;
}

struct Scaling {
  KernelKind kind;
  const Eigen::VectorXd& root_p;
  double largest = 1;                // linear: max |x_ij|
  std::int64_t first_zero_row = -1;  // cosine: reported once every value is known finite
};

// Scales item `row`, held at y[0], y[stride], ..., in place; squared_norm is the sum of its
// squares (any value: out of range, infinite or NaN take the careful path).
void scale_item(double* y, std::int64_t d, std::int64_t stride, std::int64_t row,
                double squared_norm, Scaling& scaling) {
  const double root_p = scaling.root_p(row);
  if (scaling.kind == KernelKind::linear) {
    // Divided, not multiplied by 1 / largest: that overflows when the largest is subnormal.
    for (std::int64_t j = 0; j < d; ++j) y[j * stride] = y[j * stride] / scaling.largest * root_p;
    return;
  }
  if (squared_norm >= kSafeLow && squared_norm <= kSafeHigh) {
    const double factor = root_p / std::sqrt(squared_norm);
    for (std::int64_t j = 0; j < d; ++j) y[j * stride] *= factor;
    return;
  }
  double largest = 0;
  for (std::int64_t j = 0; j < d; ++j) {
    if (!std::isfinite(y[j * stride])) throw non_finite(row, j, y[j * stride]);
    largest = std::max(largest, std::abs(y[j * stride]));
  }
  if (largest == 0) {
    if (scaling.first_zero_row < 0) scaling.first_zero_row = row;
    return;
  }
  // Divided, as above.
  double scaled_squares = 0;
  for (std::int64_t j = 0; j < d; ++j) {
    const double v = y[j * stride] / largest;
    scaled_squares += v * v;
  }
  const double factor = root_p / std::sqrt(scaled_squares);
  for (std::int64_t j = 0; j < d; ++j) y[j * stride] = y[j * stride] / largest * factor;
}

// Row-major item `row` (d values at x) into y, scaled: read from the source once for its norm
// and once more, from L1, for the copy.
template <typename Float>
void fill_item(const std::byte* x, std::int64_t d, std::int64_t row, double* y, Scaling& scaling) {
  if (scaling.kind == KernelKind::linear) {
    scaled_copy<Float>(x, d, 1.0, y);
    scale_item(y, d, 1, row, 0, scaling);
    return;
  }
  const double root_p = scaling.root_p(row);
  const double squared_norm = sum_of_squares<Float>(x, d);
  if (squared_norm >= kSafeLow && squared_norm <= kSafeHigh) {
    scaled_copy<Float>(x, d, root_p / std::sqrt(squared_norm), y);
    return;
  }
  scaled_copy<Float>(x, d, 1.0, y);
  scale_item(y, d, 1, row, squared_norm, scaling);
}

// Scales a count x d column-major block of items (leading dimension ld) in place.
void scale_item_rows(double* block, std::int64_t count, std::int64_t d, std::int64_t ld,
                     std::int64_t first_row, Scaling& scaling, std::vector<double>& squares) {
  const auto root_p = scaling.root_p.segment(first_row, count);
  if (scaling.kind == KernelKind::linear) {
    for (std::int64_t j = 0; j < d; ++j) {
      double* column = block + j * ld;
      for (std::int64_t k = 0; k < count; ++k) column[k] = column[k] / scaling.largest * root_p(k);
    }
    return;
  }
  squares.assign(static_cast<std::size_t>(count), 0.0);
  for (std::int64_t j = 0; j < d; ++j) {
    const double* column = block + j * ld;
    for (std::int64_t k = 0; k < count; ++k) {
      squares[static_cast<std::size_t>(k)] += column[k] * column[k];
    }
  }
  bool all_plain = true;
  for (const double s : squares) all_plain = all_plain && s >= kSafeLow && s <= kSafeHigh;
  if (!all_plain) {
    for (std::int64_t k = 0; k < count; ++k) {
      scale_item(block + k, d, ld, first_row + k, squares[static_cast<std::size_t>(k)], scaling);
    }
    return;
  }
  // The common case, column by column so that it vectorises.
  std::vector<double> factors(static_cast<std::size_t>(count));
  for (std::int64_t k = 0; k < count; ++k) {
    factors[static_cast<std::size_t>(k)] =
        root_p(k) / std::sqrt(squares[static_cast<std::size_t>(k)]);
  }
  for (std::int64_t j = 0; j < d; ++j) {
    double* column = block + j * ld;
    for (std::int64_t k = 0; k < count; ++k) column[k] *= factors[static_cast<std::size_t>(k)];
  }
}

Scaling scaling_for(const MatrixView& x, KernelKind kind, const Eigen::VectorXd& root_p) {
  if (kind != KernelKind::cosine && kind != KernelKind::linear) {
    throw std::logic_error("item_gram: only the cosine and linear kernels scale items");
  }
  Scaling scaling{kind, root_p};
  if (kind == KernelKind::linear) {
    const double largest = largest_magnitude(x);
    if (largest == 0) throw all_zero();
    scaling.largest = largest;
  }
  return scaling;
}

// After the pass: a zero row (cosine) or a zero trace (linear: every weighted row zero).
void check_after_pass(const Scaling& scaling, const Eigen::MatrixXd& gram) {
  if (scaling.first_zero_row >= 0) throw zero_row(scaling.first_zero_row);
  if (scaling.kind == KernelKind::linear && gram.diagonal().sum() == 0) throw all_zero();
}

}  // namespace

// Row-major items [first, first + count) into the columns of a d x count buffer, scaled on
// the way in, split between as many threads as OpenBLAS uses: while one thread scales,
// OpenBLAS's other threads only spin waiting for the next dsyrk (measured on 20,000 x 768,
// 2 threads: the scaling was a tenth of dsyrk's time, all of it serial).
void fill_block(const MatrixView& x, std::int64_t first, std::int64_t count, double* buffer,
                Scaling& scaling) {
  const std::int64_t item_bytes = x.cols * (x.type == ScalarType::float64 ? 8 : 4);
  const auto fill_items = [&](std::int64_t begin, std::int64_t end, Scaling& part_scaling) {
    for (std::int64_t item = begin; item < end; ++item) {
      const std::byte* source = x.data + (first + item) * item_bytes;
      double* y = buffer + item * x.cols;
      if (x.type == ScalarType::float64) {
        fill_item<double>(source, x.cols, first + item, y, part_scaling);
      } else {
        fill_item<float>(source, x.cols, first + item, y, part_scaling);
      }
    }
  };
  constexpr std::int64_t kItemsPerThread = 64;
  const std::int64_t parts = std::clamp<std::int64_t>(
      std::min<std::int64_t>(openblas_get_num_threads(), count / kItemsPerThread), 1, 16);
  if (parts == 1) {
    fill_items(0, count, scaling);
    return;
  }
  // Each part has its own Scaling (its first zero row) and its own error; part p holds
  // lower rows than part p + 1, so the first error in part order is the first in row order,
  // and a non-finite value anywhere still comes before any zero row.
  std::vector<Scaling> part_scaling(static_cast<std::size_t>(parts), scaling);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(parts));
  const auto run_part = [&](std::int64_t p) {
    try {
      fill_items(count * p / parts, count * (p + 1) / parts,
                 part_scaling[static_cast<std::size_t>(p)]);
    } catch (...) {
      errors[static_cast<std::size_t>(p)] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (std::int64_t p = 1; p < parts; ++p) {
    try {
      threads.emplace_back(run_part, p);
    } catch (const std::system_error&) {
      run_part(p);  // no thread to be had: this one does the part
    }
  }
  run_part(0);
  for (std::thread& thread : threads) thread.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  for (const Scaling& part : part_scaling) {
    if (part.first_zero_row >= 0 && scaling.first_zero_row < 0) {
      scaling.first_zero_row = part.first_zero_row;
    }
  }
}

Eigen::MatrixXd item_gram_of_features(const MatrixView& x, KernelKind kind,
                                      const Eigen::VectorXd& root_p) {
  Scaling scaling = scaling_for(x, kind, root_p);
  const int d = checked_int(x.cols, "dimension");
  const std::int64_t block = std::max<std::int64_t>(1, kBlockBytes / 8 / x.cols);
  std::vector<double> buffer(static_cast<std::size_t>(std::min(block, x.rows) * x.cols));
  std::vector<double> squares;
  Eigen::MatrixXd gram(d, d);
  const double one = 1.0, zero = 0.0;
  for (std::int64_t first = 0; first < x.rows; first += block) {
    const std::int64_t count = std::min(block, x.rows - first);
    const int k = static_cast<int>(count);
    if (x.row_major) {
      fill_block(x, first, count, buffer.data(), scaling);
      dsyrk_("U", "N", &d, &k, &one, buffer.data(), &d, first == 0 ? &zero : &one, gram.data(), &d,
             1, 1);
    } else {
      gather(x, first, count, buffer.data());
      scale_item_rows(buffer.data(), count, x.cols, count, first, scaling, squares);
      dsyrk_("U", "T", &d, &k, &one, buffer.data(), &k, first == 0 ? &zero : &one, gram.data(), &d,
             1, 1);
    }
  }
  check_after_pass(scaling, gram);
  return gram;
}

Eigen::MatrixXd item_gram_of_items(const MatrixView& x, KernelKind kind,
                                   const Eigen::VectorXd& root_p) {
  Scaling scaling = scaling_for(x, kind, root_p);
  const int n = checked_int(x.rows, "item count");
  const int d = checked_int(x.cols, "dimension");
  Eigen::MatrixXd items = to_matrix(x);
  std::vector<double> squares;
  scale_item_rows(items.data(), x.rows, x.cols, x.rows, 0, scaling, squares);
  Eigen::MatrixXd gram(n, n);
  const double one = 1.0, zero = 0.0;
  dsyrk_("U", "N", &n, &d, &one, items.data(), &n, &zero, gram.data(), &n, 1, 1);
  check_after_pass(scaling, gram);
  return gram;
}

}  // namespace qdgen::metrics::detail
