#include "emitter_spec_readers.hpp"

namespace qdgen::engine {

int read_batch(common::JsonReader& group, int minimum, int fallback) {
  return static_cast<int>(group.integer("batch", minimum, kMaxEmitterBatch, fallback));
}

Eigen::VectorXd read_x0(common::JsonReader& group, const DomainSpec& domain) {
  const auto x0 = group.optional("x0");
  if (!x0) return {};
  const int dim = domain.solution_dim();
  const std::string what =
      "a number or an array of " + std::to_string(dim) + " numbers (the domain's solution size)";
  if (x0->json().is_number()) return Eigen::VectorXd::Constant(dim, x0->number());
  const auto values = x0->array(what, static_cast<std::size_t>(dim), static_cast<std::size_t>(dim));
  Eigen::VectorXd x(dim);
  for (int i = 0; i < dim; ++i) x[i] = values[static_cast<std::size_t>(i)].number();
  return x;
}

}  // namespace qdgen::engine
