// The forward pass is written once over two backends: qdgen's CPU kernels and ATen's ops. These
// check the choice between them (a runtime option, never the environment) and the projection
// seam's adapter input, which both backends take and refuse alike when it does not match the
// adapters loaded.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "llama_runtime.hpp"
#include "llama_weights.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

LlamaRuntime runtime_of(const LlamaConfig& config, bool aten_forward) {
  RuntimeOptions options;
  options.threads = 2;
  options.aten_forward = aten_forward;
  return LlamaRuntime(weights_from_owned(config, testing::random_llama_weights(config, 7),
                                         "tensors", at::kCPU, at::kFloat),
                      options);
}

// Hidden states of a 3-row prompt pass, the rows at different positions of their slots.
at::Tensor prompt_pass(const LlamaRuntime& runtime, const RowAdapters& adapters = {}) {
  KvCache cache = runtime.make_cache(3, 16);
  const at::Tensor tokens = at::arange(12, at::kLong).remainder(runtime.config().vocab_size);
  const std::vector<std::int64_t> starts{0, 0, 0};
  return runtime.forward(cache, tokens.view({3, 4}), 0, starts, adapters);
}

class ForwardBackends : public ::testing::TestWithParam<bool> {};

TEST_P(ForwardBackends, TheAtenChoiceIsTheRuntimesOption) {
  const LlamaRuntime runtime = runtime_of(testing::small_llama_config(), GetParam());
  EXPECT_EQ(runtime.runs_own_kernels(), !GetParam());
  EXPECT_EQ(runtime.threads(), 2);
}

TEST_P(ForwardBackends, TakeTheEmptyAdapterInputAndRefuseWeightsForAdaptersNotLoaded) {
  const LlamaRuntime runtime = runtime_of(testing::small_llama_config(), GetParam());
  const at::Tensor plain = prompt_pass(runtime);
  const std::vector<float> no_weights;
  EXPECT_TRUE(at::equal(prompt_pass(runtime, RowAdapters{0, no_weights}), plain));

  const std::vector<float> weights(3 * 2, 0.5f);  // two adapters for each of 3 rows
  std::string message;
  try {
    prompt_pass(runtime, RowAdapters{2, weights});
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  EXPECT_EQ(message,
            "the batch carries weights for 2 adapter(s) per row, but the model has none loaded");
}

TEST(ForwardBackendsAgree, OnOnePromptPassOfRowsAtDifferentPositions) {
  LlamaConfig config = testing::small_llama_config();
  config.qkv_bias = config.mlp_bias = true;
  const LlamaRuntime kernels = runtime_of(config, false);
  const LlamaRuntime aten = runtime_of(config, true);
  for (const std::vector<std::int64_t>& starts :
       {std::vector<std::int64_t>{0, 0, 0}, std::vector<std::int64_t>{0, 5, 9}}) {
    KvCache a = kernels.make_cache(3, 16), b = aten.make_cache(3, 16);
    const at::Tensor first = at::arange(30, at::kLong).remainder(config.vocab_size).view({3, 10});
    // Rows at starts[r] need their earlier positions cached: fill them with one pass each.
    for (std::int64_t r = 0; r < 3; ++r) {
      if (starts[r] == 0) continue;
      const at::Tensor prefix = first[r].narrow(0, 0, starts[r]).view({1, starts[r]});
      const std::vector<std::int64_t> zero{0};
      kernels.forward(a, prefix, r, zero);
      aten.forward(b, prefix, r, zero);
    }
    const at::Tensor next = at::arange(6, at::kLong).add(40).view({3, 2});
    const at::Tensor from_kernels = kernels.forward(a, next, 0, starts);
    const at::Tensor from_aten = aten.forward(b, next, 0, starts);
    EXPECT_LT((from_kernels - from_aten).abs().max().item<float>(), 1e-4);
    EXPECT_LT((kernels.logits(from_kernels) - aten.logits(from_aten)).abs().max().item<float>(),
              1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ForwardBackends, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& aten) {
                           return aten.param ? std::string("aten") : std::string("kernels");
                         });

}  // namespace
}  // namespace qdgen::inference
