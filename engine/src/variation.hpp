#pragma once
// Helpers the numeric emitters share.

#include "qdgen/engine/domain.hpp"
#include "qdgen/engine/emitter.hpp"

namespace qdgen::engine {

// The numeric solution of an elite; throws a clear error for text solutions.
const Eigen::VectorXd& numeric_solution(const archive::Candidate& candidate,
                                        const std::string& emitter);
// x0 of the options, or zeros of the domain's dimension when none was given.
Eigen::VectorXd initial_solution(const Eigen::VectorXd& x0, const Domain& domain,
                                 const std::string& emitter);
// The candidate's numeric solution, resized to dim, for an emitter to write in place: the
// scheduler lends each new candidate the vector of a disposed one, so no allocation.
Eigen::VectorXd& solution_buffer(archive::Candidate& candidate, Eigen::Index dim);
void clip_to_bounds(Eigen::VectorXd& x, const std::optional<SolutionBounds>& bounds);
// Starts fetching a parent's coefficients: parents are random elites, mostly out of
// cache, and their fetch can overlap the noise draws.
inline void prefetch(const Eigen::VectorXd& x) {
  const char* bytes = reinterpret_cast<const char*>(x.data());
  const std::size_t size = static_cast<std::size_t>(x.size()) * sizeof(double);
  for (std::size_t offset = 0; offset < size; offset += 64) __builtin_prefetch(bytes + offset);
}

}  // namespace qdgen::engine
