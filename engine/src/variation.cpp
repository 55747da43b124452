#include "variation.hpp"

#include <stdexcept>

namespace qdgen::engine {

const Eigen::VectorXd& numeric_solution(const archive::Candidate& candidate,
                                        const std::string& emitter) {
  const auto* x = std::get_if<Eigen::VectorXd>(&candidate.solution);
  if (x == nullptr)
    throw std::runtime_error(emitter + " emitter needs numeric solutions; the archive holds texts");
  return *x;
}

Eigen::VectorXd initial_solution(const Eigen::VectorXd& x0, const Domain& domain,
                                 const std::string& emitter) {
  const int dim = domain.solution_dim();
  if (dim < 1)
    throw std::runtime_error(emitter + " emitter needs a numeric domain; '" + domain.name() +
                             "' has text solutions");
  if (x0.size() == 0) return Eigen::VectorXd::Zero(dim);
  if (x0.size() != dim)
    throw std::runtime_error(emitter + " emitter: x0 has " + std::to_string(x0.size()) +
                             " values, the domain's solutions have " + std::to_string(dim));
  return x0;
}

Eigen::VectorXd& solution_buffer(archive::Candidate& candidate, Eigen::Index dim) {
  auto* x = std::get_if<Eigen::VectorXd>(&candidate.solution);
  if (x == nullptr) x = &candidate.solution.emplace<Eigen::VectorXd>();
  x->resize(dim);
  return *x;
}

void clip_to_bounds(Eigen::VectorXd& x, const std::optional<SolutionBounds>& bounds) {
  if (bounds) x = x.cwiseMax(bounds->lower).cwiseMin(bounds->upper);
}

}  // namespace qdgen::engine
