#pragma once
// AdamW as PyTorch's torch.optim.AdamW computes it (decoupled weight decay, bias-corrected
// moments), fused into one pass per tensor, with global-norm gradient clipping folded into
// the same pass; and the learning-rate schedule (linear warm-up, cosine decay).

#include <cstdint>
#include <vector>

#include "llama_trainable.hpp"

namespace qdgen::inference::training {

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.95, epsilon = 1e-8, weight_decay = 0.1;
  double gradient_clip = 1.0;  // 0: none
};

class AdamW {
 public:
  AdamW(std::vector<TrainableParameter> parameters, const AdamWSettings& settings);

  // One update from the parameters' .grad() at `learning_rate`; a parameter without a
  // gradient is left alone. Returns the gradients' global L2 norm before clipping. The sums
  // run in fixed chunks added in order, so the result does not depend on the thread count.
  double step(double learning_rate);
  std::int64_t steps() const { return steps_; }

  // The moments, in parameter order: exp_avg then exp_avg_sq of each ("name.exp_avg", ...).
  std::vector<TrainableParameter> state() const;
  void restore(std::int64_t steps);  // after state()'s tensors were overwritten

 private:
  std::vector<TrainableParameter> parameters_;
  std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
  AdamWSettings settings_;
  std::int64_t steps_ = 0;
};

// Linear warm-up to `peak` over warmup steps (step s gets peak (s + 1) / warmup), then
// cosine decay to peak * min_ratio at the last step.
double learning_rate_at(std::int64_t step, std::int64_t steps, std::int64_t warmup, double peak,
                        double min_ratio);

}  // namespace qdgen::inference::training
