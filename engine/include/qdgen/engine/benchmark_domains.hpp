#pragma once
// The numeric benchmark domains of the QD literature, as pyribs defines them.
//
// sphere, rastrigin (n-D): optimum shifted to x_i = 0.4 * 5.12; objective rescaled to
//   [0, 100] (100 = optimum, 0 = the value at x_i = -5.12); measures = sums of the first
//   and the second half of x, where a coordinate beyond +-5.12 counts as 5.12 / x_i.
// arm (n joints of length 1/n): measures = end-effector (x, y); objective = -variance of
//   the joint angles, rescaled to [0, 100] as pyribs' arm tutorial does; angles in [-pi, pi].

#include <memory>

#include "qdgen/engine/domain.hpp"

namespace qdgen::engine {

std::unique_ptr<Domain> make_sphere_domain(int dim);
std::unique_ptr<Domain> make_rastrigin_domain(int dim);
std::unique_ptr<Domain> make_arm_domain(int joints, bool clip_angles);

// The measure range both halves' sums span: [-dim/2 * 5.12, dim/2 * 5.12].
double sphere_measure_bound(int dim);

}  // namespace qdgen::engine
