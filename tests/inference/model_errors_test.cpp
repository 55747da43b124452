// Bad input gets one clear line naming what is wrong, never a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "qdgen/inference/model.hpp"
#include "random_weights.hpp"

namespace qdgen::inference {
namespace {

template <typename Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

TEST(ModelErrors, MissingTensorIsNamed) {
  const LlamaConfig config = testing::small_llama_config();
  auto tensors = testing::random_llama_weights(config, 1);
  std::erase_if(tensors,
                [](const OwnedTensor& t) { return t.name == "model.layers.1.mlp.up_proj.weight"; });
  EXPECT_TRUE(contains(error_of([&] { LlamaModel::from_tensors(config, tensors); }),
                       "missing tensor 'model.layers.1.mlp.up_proj.weight'"));
}

TEST(ModelErrors, WrongShapeNamesTheTensorAndBothShapes) {
  const LlamaConfig config = testing::small_llama_config();
  auto tensors = testing::random_llama_weights(config, 1);
  for (auto& t : tensors) {
    if (t.name == "model.layers.0.self_attn.k_proj.weight") {
      t.shape = {64, 32};
      t.data.resize(64 * 32);
    }
  }
  EXPECT_TRUE(contains(
      error_of([&] { LlamaModel::from_tensors(config, tensors); }),
      "tensor 'model.layers.0.self_attn.k_proj.weight' has shape [64, 32], expected [32, 64]"));
}

TEST(ModelErrors, NonFiniteWeightsAreRefusedNamingTheTensor) {
  const LlamaConfig config = testing::small_llama_config();
  for (const float bad : {std::numeric_limits<float>::infinity(), std::nanf("")}) {
    auto tensors = testing::random_llama_weights(config, 1);
    for (auto& t : tensors)
      if (t.name == "model.layers.1.self_attn.o_proj.weight") t.data[17] = bad;
    const std::string message = error_of([&] { LlamaModel::from_tensors(config, tensors); });
    EXPECT_TRUE(contains(message,
                         "tensor 'model.layers.1.self_attn.o_proj.weight' holds a "
                         "non-finite value"));
    EXPECT_TRUE(contains(message, "at element 17"));
  }
}

TEST(ModelErrors, MissingBiasOfAQwen2ModelIsNamed) {
  LlamaConfig config = testing::small_llama_config();
  const auto tensors = testing::random_llama_weights(config, 1);
  config.architecture = "Qwen2ForCausalLM";
  config.qkv_bias = true;
  EXPECT_TRUE(contains(error_of([&] { LlamaModel::from_tensors(config, tensors); }),
                       "missing tensor 'model.layers.0.self_attn.q_proj.bias'"));
}

TEST(ModelErrors, UnknownDeviceAndMissingPath) {
  const LlamaConfig config = testing::small_llama_config();
  EXPECT_TRUE(contains(
      error_of([&] {
        LlamaModel::from_tensors(config, testing::random_llama_weights(config, 1), {"tpu", 1});
      }),
      "device 'tpu': expected auto, cpu or cuda"));
  EXPECT_TRUE(contains(error_of([&] { LlamaModel::load("/nonexistent/model.bin"); }),
                       "/nonexistent/model.bin: no such model"));
  const auto empty_folder = std::filesystem::temp_directory_path() /
                            (std::string("qdgen_empty_model_folder.") + std::to_string(::getpid()));
  std::filesystem::create_directories(empty_folder);
  EXPECT_TRUE(contains(error_of([&] { LlamaModel::load(empty_folder); }), "config.json"));
}

class RequestErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    const LlamaConfig config = testing::small_llama_config();
    model_ = LlamaModel::from_tensors(config, testing::random_llama_weights(config, 1));
    request_.prompt = {1, 2, 3};
    request_.max_tokens = 4;
  }
  std::string generate_error(const TokenRequest& bad) {
    std::vector<TokenRequest> requests = {request_, bad};
    return error_of([&] { model_->generate(requests); });
  }
  std::unique_ptr<LlamaModel> model_;
  TokenRequest request_;
};

TEST_F(RequestErrors, TokenIdOutsideTheVocabulary) {
  TokenRequest bad = request_;
  bad.prompt = {1, 96, 2};
  EXPECT_TRUE(
      contains(generate_error(bad),
               "request 1 prompt: token id 96 at position 1 is outside the vocabulary [0, 96)"));
  bad.prompt = {-3};
  EXPECT_TRUE(contains(generate_error(bad), "token id -3"));
  EXPECT_TRUE(contains(error_of([&] {
                         model_->score(std::vector<std::int32_t>{1},
                                       std::vector<std::vector<std::int32_t>>{{200}});
                       }),
                       "score continuation 0: token id 200"));
  EXPECT_TRUE(contains(error_of([&] {
                         model_->embed(std::vector<std::vector<std::int32_t>>{{1, 100}});
                       }),
                       "embed text 0: token id 100"));
  EXPECT_TRUE(contains(error_of([&] { model_->forward_logits(std::vector<std::int32_t>{99}); }),
                       "token id 99"));
}

TEST_F(RequestErrors, PromptLongerThanTheContext) {
  TokenRequest bad = request_;
  bad.prompt.assign(65, 1);
  EXPECT_TRUE(contains(generate_error(bad),
                       "request 1: the prompt has 65 tokens, more than the model's context of 64"));
  EXPECT_TRUE(contains(
      error_of([&] {
        model_->score(std::vector<std::int32_t>(60, 1),
                      std::vector<std::vector<std::int32_t>>{std::vector<std::int32_t>(5, 1)});
      }),
      "score continuation 0: prompt and continuation have 65 tokens"));
  EXPECT_TRUE(contains(
      error_of([&] {
        model_->embed(std::vector<std::vector<std::int32_t>>{std::vector<std::int32_t>(70, 1)});
      }),
      "embed text 0: 70 tokens, more than the model's context of 64"));
}

TEST_F(RequestErrors, BadSettings) {
  TokenRequest bad = request_;
  bad.prompt.clear();
  EXPECT_TRUE(contains(generate_error(bad), "request 1: the prompt has no tokens"));
  bad = request_;
  bad.sampling.top_p = 0;
  EXPECT_TRUE(contains(generate_error(bad), "request 1: top_p must be in (0, 1]"));
  bad = request_;
  bad.sampling.temperature = -1;
  EXPECT_TRUE(contains(generate_error(bad), "request 1: temperature must be >= 0"));
  bad = request_;
  bad.sampling.top_k = -2;
  EXPECT_TRUE(contains(generate_error(bad), "request 1: top_k must be >= 0"));
  bad = request_;
  bad.max_tokens = -1;
  EXPECT_TRUE(contains(generate_error(bad), "request 1: max_tokens must be >= 0"));
  bad = request_;
  bad.stop = {"x"};
  EXPECT_TRUE(contains(generate_error(bad), "request 1: stop strings need a tokenizer"));
  bad = request_;
  bad.lora.adapters = {{"style", 1.0}};
  EXPECT_TRUE(contains(generate_error(bad),
                       "request 1: the LoRA mixture names adapter 'style', which is not loaded"));
  EXPECT_TRUE(contains(error_of([&] {
                         model_->score(std::vector<std::int32_t>{},
                                       std::vector<std::vector<std::int32_t>>{{1}});
                       }),
                       "score: the prompt has no tokens"));
  EXPECT_TRUE(contains(error_of([&] {
                         model_->score(std::vector<std::int32_t>{1},
                                       std::vector<std::vector<std::int32_t>>{{}});
                       }),
                       "score continuation 0: no tokens"));
}

TEST_F(RequestErrors, ZeroMaxTokensGivesAnEmptyResult) {
  TokenRequest none = request_;
  none.max_tokens = 0;
  const auto results = model_->generate(std::span(&none, 1));
  EXPECT_TRUE(results[0].tokens.empty());
}

}  // namespace
}  // namespace qdgen::inference
