// The training model against qdgen's inference forward, its custom autograd nodes against
// plain ATen autograd, and its Hugging Face round trip.
#include "qdgen/inference/model.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "adamw.hpp"
#include "llama_trainable.hpp"
#include "qdgen/inference/hf_folder.hpp"
#include "random_llama.hpp"
#include "training_fixtures.hpp"
#include "training_ops.hpp"

namespace qdgen::inference::training {
namespace {

at::Tensor random_tokens(std::int64_t batch, std::int64_t time, std::int64_t vocab,
                         std::uint64_t seed) {
  at::Tensor tokens = at::empty({batch, time}, at::kLong);
  std::mt19937_64 rng(seed);
  for (std::int64_t i = 0; i < tokens.numel(); ++i) {
    tokens.data_ptr<std::int64_t>()[i] = static_cast<std::int64_t>(rng() % vocab);
  }
  return tokens;
}

float max_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<float>();
}

// Logits of the training forward and of qdgen's inference model for the same weights.
void expect_same_logits(LlamaConfig config, const std::vector<OwnedTensor>& tensors) {
  // A context of three attention blocks (64 positions each), the last one shorter.
  config.max_position_embeddings = 150;
  LlamaTrainable trainable(config);
  trainable.load_hf(tensors);
  auto inference = LlamaModel::from_tensors(config, tensors);
  const std::int64_t time = 149;
  const at::Tensor tokens = random_tokens(2, time, config.vocab_size, 5);
  const at::Tensor logits = trainable.logits(tokens);
  for (std::int64_t row = 0; row < 2; ++row) {
    std::vector<std::int32_t> ids;
    for (std::int64_t t = 0; t < time; ++t) {
      ids.push_back(static_cast<std::int32_t>(tokens[row][t].item<std::int64_t>()));
    }
    const std::vector<float> expected = inference->forward_logits(ids);
    const at::Tensor reference =
        at::from_blob(const_cast<float*>(expected.data()), {time, config.vocab_size}, at::kFloat);
    EXPECT_LT(max_difference(logits[row], reference), 1e-4f) << "row " << row;
  }
}

TEST(TrainingModel, LogitsEqualQdgenForwardUntiedWithGroupedQueries) {
  const auto config = testing::tiny_llama_config(false);
  expect_same_logits(config, testing::random_llama_tensors(config, 3));
}

TEST(TrainingModel, LogitsEqualQdgenForwardTiedWithBiasesAndLlama3Rope) {
  auto config = testing::tiny_llama_config(true);
  config.attention_bias = config.qkv_bias = config.mlp_bias = true;
  config.rope_theta = 500000.0;
  config.rope_scaling = RopeScalingLlama3{8.0, 1.0, 4.0, 16};
  config.rms_norm_eps = 1e-6;
  expect_same_logits(config, testing::random_llama_tensors(config, 4));
}

TEST(TrainingModel, HuggingFaceRoundTripKeepsEveryTensorBitForBit) {
  testing::ScratchFolder scratch("round_trip");
  const auto config = testing::tiny_llama_config(false);
  LlamaTrainable model(config);
  model.initialise(0.02, 11);
  const auto saved = model.to_hf();
  write_hf_folder(scratch / "model", config, saved);
  const HfModelFolder folder = open_hf_folder(scratch / "model");
  std::vector<OwnedTensor> read;
  for (const TensorSpec& spec : llama_tensor_specs(config)) {
    const TensorView* view = folder.weights->find(spec.name);
    ASSERT_NE(view, nullptr) << spec.name;
    OwnedTensor tensor{spec.name, spec.shape,
                       std::vector<float>(static_cast<std::size_t>(view->numel()))};
    convert_to_f32(*view, tensor.data);
    read.push_back(std::move(tensor));
  }
  LlamaTrainable loaded(config);
  loaded.load_hf(read);
  const auto a = model.parameters(), b = loaded.parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].tensor, b[i].tensor)) << a[i].name;
  }
  const auto again = loaded.to_hf();
  ASSERT_EQ(again.size(), saved.size());
  for (std::size_t i = 0; i < saved.size(); ++i) {
    EXPECT_EQ(again[i].name, saved[i].name);
    EXPECT_EQ(again[i].data, saved[i].data) << saved[i].name;
  }
}

// Each custom node's forward and backward against the same maths in plain ATen ops.
TEST(TrainingOps, RmsNormMatchesAtenAutograd) {
  const at::Tensor x0 = at::randn({37, 48}, at::kFloat), w0 = at::rand({48}) + 0.5;
  at::Tensor x = x0.clone().set_requires_grad(true), w = w0.clone().set_requires_grad(true);
  at::Tensor xr = x0.clone().set_requires_grad(true), wr = w0.clone().set_requires_grad(true);
  const at::Tensor upstream = at::randn({37, 48});
  const at::Tensor y = rms_norm(x, w, 1e-5);
  const at::Tensor yr = xr * at::rsqrt(xr.square().mean(-1, true) + 1e-5) * wr;
  EXPECT_LT(max_difference(y, yr), 1e-5f);
  (y * upstream).sum().backward();
  (yr * upstream).sum().backward();
  EXPECT_LT(max_difference(x.grad(), xr.grad()), 1e-4f);
  EXPECT_LT(max_difference(w.grad(), wr.grad()), 1e-4f);
}

TEST(TrainingOps, SiluGateMatchesAtenAutograd) {
  const at::Tensor gu0 = at::randn({3, 11, 2 * 40}) * 3;
  at::Tensor gu = gu0.clone().set_requires_grad(true), gur = gu0.clone().set_requires_grad(true);
  const at::Tensor upstream = at::randn({3, 11, 40});
  const at::Tensor y = silu_gate(gu);
  const at::Tensor yr = at::silu(gur.narrow(-1, 0, 40)) * gur.narrow(-1, 40, 40);
  EXPECT_LT(max_difference(y, yr), 1e-5f);
  (y * upstream).sum().backward();
  (yr * upstream).sum().backward();
  EXPECT_LT(max_difference(gu.grad(), gur.grad()), 1e-4f);
}

TEST(TrainingOps, SplitHeadsRotaryMatchesAtenAutograd) {
  const std::int64_t batch = 2, time = 9, heads = 4, kv_heads = 2, hd = 8, half = hd / 2;
  const std::int64_t width = (heads + 2 * kv_heads) * hd;
  const at::Tensor qkv0 = at::randn({batch, time, width});
  const at::Tensor angles = at::arange(time, at::kFloat).unsqueeze(1) * (at::rand({half}) + 0.1);
  const at::Tensor cos = angles.cos().contiguous(), sin = angles.sin().contiguous();
  at::Tensor qkv = qkv0.clone().set_requires_grad(true),
             qkvr = qkv0.clone().set_requires_grad(true);
  const auto out = split_heads_rotary(qkv, cos, sin, heads, kv_heads, hd);
  const auto rotate = [&](const at::Tensor& x) {  // x: [B, T, n, hd] -> [B, n, T, hd]
    const at::Tensor a = x.narrow(-1, 0, half), b = x.narrow(-1, half, half);
    const at::Tensor c = cos.view({1, time, 1, half}), s = sin.view({1, time, 1, half});
    return at::cat({a * c - b * s, b * c + a * s}, -1).permute({0, 2, 1, 3});
  };
  const at::Tensor q = rotate(qkvr.narrow(-1, 0, heads * hd).view({batch, time, heads, hd}))
                           .reshape({batch, kv_heads, heads / kv_heads, time, hd})
                           .permute({0, 1, 3, 2, 4});
  const at::Tensor k =
      rotate(qkvr.narrow(-1, heads * hd, kv_heads * hd).view({batch, time, kv_heads, hd}));
  const at::Tensor v = qkvr.narrow(-1, (heads + kv_heads) * hd, kv_heads * hd)
                           .reshape({batch, time, kv_heads, hd})
                           .permute({0, 2, 1, 3});
  EXPECT_LT(max_difference(out[0], q), 1e-5f);
  EXPECT_LT(max_difference(out[1], k), 1e-5f);
  EXPECT_LT(max_difference(out[2], v), 1e-6f);
  const at::Tensor u0 = at::randn_like(q), u1 = at::randn_like(k), u2 = at::randn_like(v);
  ((out[0] * u0).sum() + (out[1] * u1).sum() + (out[2] * u2).sum()).backward();
  ((q * u0).sum() + (k * u1).sum() + (v * u2).sum()).backward();
  EXPECT_LT(max_difference(qkv.grad(), qkvr.grad()), 1e-5f);
}

// Blocked causal attention against one masked product over the whole context, forward and
// backward, with grouped queries and a last block shorter than the others.
TEST(TrainingOps, BlockedCausalAttentionMatchesMaskedAttention) {
  const std::int64_t n = 3, time = 70, group = 2, hd = 8;
  const at::Tensor q0 = at::randn({n, time * group, hd}), k0 = at::randn({n, time, hd});
  const at::Tensor v0 = at::randn({n, time, hd});
  at::Tensor q = q0.clone().set_requires_grad(true), k = k0.clone().set_requires_grad(true);
  at::Tensor v = v0.clone().set_requires_grad(true);
  at::Tensor qr = q0.clone().set_requires_grad(true), kr = k0.clone().set_requires_grad(true);
  at::Tensor vr = v0.clone().set_requires_grad(true);
  const at::Tensor out = CausalAttention(time, group, 16)(q, k, v, 0.3);
  at::Tensor mask = at::zeros({time * group, time});
  for (std::int64_t r = 0; r < time * group; ++r) {
    for (std::int64_t j = r / group + 1; j < time; ++j) mask[r][j] = -INFINITY;
  }
  const at::Tensor reference =
      at::matmul(at::softmax(at::matmul(qr, kr.transpose(1, 2)) * 0.3 + mask, -1), vr);
  EXPECT_LT(max_difference(out, reference), 1e-5f);
  const at::Tensor upstream = at::randn_like(out);
  (out * upstream).sum().backward();
  (reference * upstream).sum().backward();
  EXPECT_LT(max_difference(q.grad(), qr.grad()), 1e-5f);
  EXPECT_LT(max_difference(k.grad(), kr.grad()), 1e-5f);
  EXPECT_LT(max_difference(v.grad(), vr.grad()), 1e-5f);
}

// The whole model's gradient against finite differences of its loss, on a few weights.
TEST(TrainingModel, GradientMatchesFiniteDifferences) {
  auto config = testing::tiny_llama_config(false);
  config.vocab_size = 32;
  LlamaTrainable model(config);
  model.initialise(0.3, 2);
  model.set_requires_grad(true);
  const at::Tensor tokens = random_tokens(2, 10, 32, 1), targets = random_tokens(2, 10, 32, 2);
  model.loss(tokens, targets).backward();
  at::NoGradGuard no_grad;
  for (const TrainableParameter& p : model.parameters()) {
    ASSERT_TRUE(p.tensor.grad().defined()) << p.name;
    at::Tensor flat = p.tensor.view({-1});
    for (std::int64_t i : {std::int64_t{0}, flat.numel() / 2}) {
      const float original = flat[i].item<float>();
      const double h = 1e-2;
      flat[i] = original + h;
      const double up = model.loss(tokens, targets).item<double>();
      flat[i] = original - h;
      const double down = model.loss(tokens, targets).item<double>();
      flat[i] = original;
      const double numeric = (up - down) / (2 * h);
      const double analytic = p.tensor.grad().view({-1})[i].item<double>();
      EXPECT_NEAR(analytic, numeric, 2e-3 + 2e-2 * std::abs(numeric)) << p.name << "[" << i << "]";
    }
  }
}

TEST(TrainingLora, GradientsReachOnlyTheAdapterAndMatchFiniteDifferences) {
  auto config = testing::tiny_llama_config(false);
  config.vocab_size = 32;
  LlamaTrainable model(config);
  model.initialise(0.3, 2);
  model.set_requires_grad(false);
  LoraSettings settings{4,
                        8,
                        false,
                        {LoraTarget::kQ, LoraTarget::kK, LoraTarget::kV, LoraTarget::kO,
                         LoraTarget::kGate, LoraTarget::kUp, LoraTarget::kDown}};
  LoraWeights lora(config, settings, 3);
  {  // B starts at zero (the adapter changes nothing); move it off zero so A gets gradients.
    at::NoGradGuard no_grad;
    for (const TrainableParameter& p : lora.parameters()) {
      if (p.name.find("lora_B") != std::string::npos) {
        at::Tensor b = p.tensor;
        b.copy_(at::randn_like(b) * 0.3);
      }
    }
  }
  const at::Tensor tokens = random_tokens(2, 10, 32, 1), targets = random_tokens(2, 10, 32, 2);
  model.loss(tokens, targets, &lora).backward();
  for (const TrainableParameter& p : model.parameters()) {
    EXPECT_FALSE(p.tensor.grad().defined()) << p.name;
  }
  at::NoGradGuard no_grad;
  for (const TrainableParameter& p : lora.parameters()) {
    ASSERT_TRUE(p.tensor.grad().defined()) << p.name;
    at::Tensor flat = p.tensor.view({-1});
    for (std::int64_t i : {std::int64_t{0}, flat.numel() / 2 + 1}) {
      const float original = flat[i].item<float>();
      const double h = 1e-2;
      flat[i] = original + h;
      const double up = model.loss(tokens, targets, &lora).item<double>();
      flat[i] = original - h;
      const double down = model.loss(tokens, targets, &lora).item<double>();
      flat[i] = original;
      const double numeric = (up - down) / (2 * h);
      const double analytic = p.tensor.grad().view({-1})[i].item<double>();
      EXPECT_NEAR(analytic, numeric, 2e-3 + 2e-2 * std::abs(numeric)) << p.name << "[" << i << "]";
    }
  }
}

// The adapter as PEFT's merge applies it (W + scale B A, torch-free) gives the logits the
// training forward computes with the adapter beside the frozen base.
TEST(TrainingLora, ForwardEqualsTheMergedAdapterInQdgen) {
  const auto config = testing::tiny_llama_config(false);
  const auto base = testing::random_llama_tensors(config, 8);
  LlamaTrainable model(config);
  model.load_hf(base);
  LoraWeights lora(config,
                   {4,
                    8,
                    false,
                    {LoraTarget::kQ, LoraTarget::kK, LoraTarget::kV, LoraTarget::kO,
                     LoraTarget::kGate, LoraTarget::kUp, LoraTarget::kDown}},
                   3);
  {
    at::NoGradGuard no_grad;
    for (const TrainableParameter& p : lora.parameters()) {
      if (p.name.find("lora_B") != std::string::npos) {
        at::Tensor b = p.tensor;
        b.copy_(at::randn_like(b) * 0.2);
      }
    }
  }
  const LoraAdapter adapter = lora.to_adapter("base");
  auto merged = base;
  merge_lora_adapters(config, merged, {&adapter}, {1.0});
  auto inference = LlamaModel::from_tensors(config, merged);
  const at::Tensor tokens = random_tokens(1, 16, config.vocab_size, 4);
  std::vector<std::int32_t> ids;
  for (std::int64_t t = 0; t < 16; ++t)
    ids.push_back(static_cast<std::int32_t>(tokens[0][t].item<std::int64_t>()));
  const std::vector<float> expected = inference->forward_logits(ids);
  const at::Tensor reference =
      at::from_blob(const_cast<float*>(expected.data()), {16, config.vocab_size}, at::kFloat);
  at::NoGradGuard no_grad;
  const at::Tensor with_adapter = model.logits(tokens, &lora)[0];
  EXPECT_LT(max_difference(with_adapter, reference), 1e-4f);
  EXPECT_GT(max_difference(model.logits(tokens)[0], reference), 1e-2f);  // the adapter matters
}

TEST(TrainingLora, TrainingStepsLeaveTheBaseBitIdentical) {
  const auto config = testing::tiny_llama_config(true);
  LlamaTrainable model(config);
  model.initialise(0.1, 5);
  model.set_requires_grad(false);
  const auto before = model.to_hf();
  LoraWeights lora(config, {8, 16, true, {LoraTarget::kQ, LoraTarget::kV, LoraTarget::kDown}}, 7);
  AdamW optimizer(lora.parameters(), {0.9, 0.95, 1e-8, 0.1, 1.0});
  for (int step = 0; step < 3; ++step) {
    model
        .loss(random_tokens(2, 12, config.vocab_size, 10 + step),
              random_tokens(2, 12, config.vocab_size, 20 + step), &lora)
        .backward();
    optimizer.step(1e-2);
  }
  const auto after = model.to_hf();
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(before[i].data, after[i].data) << before[i].name;
  // ... while the adapter did move.
  const LoraAdapter adapter = lora.to_adapter("base");
  EXPECT_NE(adapter.modules[0].b, std::vector<float>(adapter.modules[0].b.size(), 0.0f));
  EXPECT_DOUBLE_EQ(adapter.modules[0].scale, 16.0 / std::sqrt(8.0));
}

}  // namespace
}  // namespace qdgen::inference::training
