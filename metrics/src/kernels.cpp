#include "qdgen/metrics/kernels.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include "item_gram.hpp"
#include "qdgen/metrics/linear_algebra.hpp"
#include "spectrum.hpp"

namespace qdgen::metrics {
namespace {

constexpr const char* kKernelChoices = "expected cosine, linear, rbf:SIGMA, precomputed or ngram:N";

std::string_view parameter_of(std::string_view spec, std::string_view name) {
  if (spec.size() <= name.size() + 1 || spec[name.size()] != ':') {
    throw std::runtime_error("kernel '" + std::string(spec) + "' needs a parameter; expected " +
                             std::string(name) + (name == "rbf" ? ":SIGMA" : ":N"));
  }
  return spec.substr(name.size() + 1);
}

}  // namespace

Kernel parse_kernel(std::string_view spec) {
  Kernel kernel;
  if (spec == "cosine") {
    kernel.kind = KernelKind::cosine;
  } else if (spec == "linear") {
    kernel.kind = KernelKind::linear;
  } else if (spec == "precomputed") {
    kernel.kind = KernelKind::precomputed;
  } else if (spec.starts_with("rbf")) {
    const std::string_view text = parameter_of(spec, "rbf");
    kernel.kind = KernelKind::rbf;
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), kernel.rbf_sigma);
    if (error != std::errc{} || end != text.data() + text.size() ||
        !std::isfinite(kernel.rbf_sigma) || kernel.rbf_sigma <= 0) {
      throw std::runtime_error("kernel '" + std::string(spec) +
                               "': sigma must be a positive number, e.g. rbf:0.5");
    }
  } else if (spec.starts_with("ngram")) {
    const std::string_view text = parameter_of(spec, "ngram");
    kernel.kind = KernelKind::ngram;
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), kernel.ngram_order);
    if (error != std::errc{} || end != text.data() + text.size() || kernel.ngram_order < 1 ||
        kernel.ngram_order > 16) {
      throw std::runtime_error("kernel '" + std::string(spec) +
                               "': N must be an integer from 1 to 16, e.g. ngram:2");
    }
  } else {
    throw std::runtime_error("unknown kernel '" + std::string(spec) + "'; " + kKernelChoices);
  }
  return kernel;
}

std::string to_string(const Kernel& kernel) {
  switch (kernel.kind) {
    case KernelKind::cosine:
      return "cosine";
    case KernelKind::linear:
      return "linear";
    case KernelKind::rbf:
      return "rbf:" + detail::format_number(kernel.rbf_sigma);
    case KernelKind::precomputed:
      return "precomputed";
    case KernelKind::ngram:
      return "ngram:" + std::to_string(kernel.ngram_order);
  }
  return "?";
}

Eigen::MatrixXd kernel_matrix(const Eigen::MatrixXd& rows, const Kernel& kernel) {
  switch (kernel.kind) {
    case KernelKind::linear:
      return gram_of_rows(rows);
    case KernelKind::cosine: {
      // Norms as the Vendi paths take them: rows of 1e-200 or 1e200 are rescaled first.
      Eigen::MatrixXd k = detail::item_gram_of_items(MatrixView::of(rows), KernelKind::cosine,
                                                     Eigen::VectorXd::Ones(rows.rows()));
      for (Eigen::Index j = 0; j < k.cols(); ++j) {
        for (Eigen::Index i = j + 1; i < k.rows(); ++i) k(i, j) = k(j, i);
      }
      return k;
    }
    case KernelKind::rbf: {
      // |x - y|^2 = |x|^2 + |y|^2 - 2 x.y, clamped at 0 against cancellation.
      Eigen::MatrixXd k = gram_of_rows(rows);
      const Eigen::VectorXd squared_norms = k.diagonal();
      const double scale = -1.0 / (2 * kernel.rbf_sigma * kernel.rbf_sigma);
      for (Eigen::Index j = 0; j < k.cols(); ++j) {
        for (Eigen::Index i = 0; i < k.rows(); ++i) {
          const double squared_distance =
              std::max(0.0, squared_norms(i) + squared_norms(j) - 2 * k(i, j));
          k(i, j) = std::exp(scale * squared_distance);
        }
        k(j, j) = 1;
      }
      return k;
    }
    case KernelKind::precomputed:
    case KernelKind::ngram:
      break;
  }
  throw std::runtime_error("kernel " + to_string(kernel) + " does not apply to feature rows");
}

}  // namespace qdgen::metrics
