#include "projection.hpp"

#include <utility>

namespace qdgen::inference {

Projection::Projection(const at::Tensor& weight, const at::Tensor& bias, bool packed,
                       CpuKernels kernels, CpuThreadPool& pool, LoraProjection lora)
    : lora_(std::move(lora)) {
  if (packed) {
    packed_ = PackedLinear(weight, bias, kernels, pool);
  } else {
    weight_ = weight;
    bias_ = bias;
  }
}

at::Tensor Projection::operator()(const at::Tensor& x, const LayerAdapters& adapters) const {
  at::Tensor y = packed_.defined() ? packed_(x)
                 : bias_.defined() ? at::addmm(bias_, x, weight_.t())
                                   : at::mm(x, weight_.t());
  lora_.add_to(x, adapters, y);
  return y;
}

}  // namespace qdgen::inference
