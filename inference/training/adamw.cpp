#include "adamw.hpp"

#include <cmath>
#include <numbers>

namespace qdgen::inference::training {
namespace {

constexpr std::int64_t kChunk = 1 << 14;

double sum_of_squares(const at::Tensor& gradient) {
  const at::Tensor g = gradient.contiguous();
  const float* data = g.data_ptr<float>();
  const std::int64_t count = g.numel(), chunks = (count + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
  at::parallel_for(0, chunks, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t c = first; c < last; ++c) {
      double sum = 0;
      for (std::int64_t i = c * kChunk; i < std::min(count, (c + 1) * kChunk); ++i) {
        sum += static_cast<double>(data[i]) * data[i];
      }
      partial[static_cast<std::size_t>(c)] = sum;
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace

AdamW::AdamW(std::vector<TrainableParameter> parameters, const AdamWSettings& settings)
    : parameters_(std::move(parameters)), settings_(settings) {
  for (const TrainableParameter& p : parameters_) {
    exp_avg_.push_back(at::zeros_like(p.tensor));
    exp_avg_sq_.push_back(at::zeros_like(p.tensor));
  }
}

double AdamW::step(double learning_rate) {
  double squares = 0;
  for (const TrainableParameter& p : parameters_) {
    if (p.tensor.grad().defined()) squares += sum_of_squares(p.tensor.grad());
  }
  const double norm = std::sqrt(squares);
  // torch.nn.utils.clip_grad_norm_: scale by clip / (norm + 1e-6) when that is below one.
  double gradient_scale = 1.0;
  if (settings_.gradient_clip > 0) {
    gradient_scale = std::min(1.0, settings_.gradient_clip / (norm + 1e-6));
  }
  ++steps_;
  const double b1 = settings_.beta1, b2 = settings_.beta2;
  const double correction1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double correction2_sqrt = std::sqrt(1.0 - std::pow(b2, static_cast<double>(steps_)));
  const auto step_size = static_cast<float>(learning_rate / correction1);
  const auto inverse_correction2 = static_cast<float>(1.0 / correction2_sqrt);
  const auto eps = static_cast<float>(settings_.epsilon);
  const auto fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  const auto g_scale = static_cast<float>(gradient_scale);
  at::NoGradGuard no_grad;
  for (std::size_t index = 0; index < parameters_.size(); ++index) {
    const TrainableParameter& p = parameters_[index];
    if (!p.tensor.grad().defined()) continue;
    const at::Tensor grad = p.tensor.grad().contiguous();
    const auto decay =
        static_cast<float>(1.0 - learning_rate * (p.decay ? settings_.weight_decay : 0.0));
    float* w = p.tensor.data_ptr<float>();
    float* m = exp_avg_[index].data_ptr<float>();
    float* v = exp_avg_sq_[index].data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    at::parallel_for(0, p.tensor.numel(), kChunk, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t i = first; i < last; ++i) {
        const float gi = g[i] * g_scale;
        m[i] = fb1 * m[i] + (1.0f - fb1) * gi;
        v[i] = fb2 * v[i] + (1.0f - fb2) * gi * gi;
        w[i] = w[i] * decay - step_size * m[i] / (std::sqrt(v[i]) * inverse_correction2 + eps);
      }
    });
  }
  return norm;
}

std::vector<TrainableParameter> AdamW::state() const {
  std::vector<TrainableParameter> state;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    state.push_back({parameters_[i].name + ".exp_avg", exp_avg_[i], false});
    state.push_back({parameters_[i].name + ".exp_avg_sq", exp_avg_sq_[i], false});
  }
  return state;
}

void AdamW::restore(std::int64_t steps) {
  steps_ = steps;
}

double learning_rate_at(std::int64_t step, std::int64_t steps, std::int64_t warmup, double peak,
                        double min_ratio) {
  if (step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const std::int64_t decay_steps = steps - warmup;
  if (decay_steps <= 1) return peak;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(decay_steps - 1);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(1.0, progress)));
  return peak * (min_ratio + (1.0 - min_ratio) * cosine);
}

}  // namespace qdgen::inference::training
