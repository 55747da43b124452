#pragma once
// Keys that several emitter kinds share (experiments/README.md, "emitters[i]").

#include <Eigen/Core>

#include "qdgen/common/json_reader.hpp"
#include "qdgen/engine/emitter_spec.hpp"

namespace qdgen::engine {

inline constexpr std::int64_t kMaxEmitterBatch = 1'000'000;

// "batch": candidates per ask, in [minimum, kMaxEmitterBatch].
int read_batch(common::JsonReader& group, int minimum, int fallback);
// "x0": a number for every coordinate or an array of the domain's solution size; empty
// (the origin) when absent.
Eigen::VectorXd read_x0(common::JsonReader& group, const DomainSpec& domain);

}  // namespace qdgen::engine
