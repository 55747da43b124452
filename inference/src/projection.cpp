#include "projection.hpp"

#include <stdexcept>
#include <string>

namespace qdgen::inference {

Projection::Projection(const at::Tensor& weight, const at::Tensor& bias, bool packed,
                       CpuKernels kernels, CpuThreadPool& pool) {
  if (packed) {
    packed_ = PackedLinear(weight, bias, kernels, pool);
  } else {
    weight_ = weight;
    bias_ = bias;
  }
}

at::Tensor Projection::operator()(const at::Tensor& x, const RowAdapters& adapters) const {
  // No adapter can be loaded yet: weights for any are weights for adapters that are not there.
  if (adapters.count != 0) {
    throw std::invalid_argument("the batch carries weights for " + std::to_string(adapters.count) +
                                " adapter(s) per row, but the model has none loaded");
  }
  if (packed_.defined()) return packed_(x);
  return bias_.defined() ? at::addmm(bias_, x, weight_.t()) : at::mm(x, weight_.t());
}

}  // namespace qdgen::inference
