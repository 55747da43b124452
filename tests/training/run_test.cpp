// train_base and train_lora end to end on tiny models: memorising a corpus, resuming to the
// same bits, the saved folder against the training module, and what an adapter learns.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>

#include "llama_trainable.hpp"
#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/model.hpp"
#include "qdgen/inference/safetensors.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "qdgen/inference/training.hpp"
#include "training_fixtures.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

const std::vector<std::string> kPoems = {
    "Roses are red,\nviolets are blue,\nsugar is sweet,\nand so are you.",
    "The wind in the willows\nsings softly at night,\nthe moon on the water\nis silver and bright.",
    "A song for the river,\na song for the sea,\na song for the mountain\nthat waits there for me.",
    "Sing of the morning,\nsing of the day,\nsing of the evening\nthat carries it away.",
    "Love is a garden\nthat grows in the rain,\nand blooms in the sunlight\nagain and again.",
    "The stars are a blanket\nof light on the hill,\nthe night is a cradle\nthat rocks and is "
    "still."};
const std::vector<std::string> kCode = {"int main() { return 0; }",
                                        "for (int i = 0; i < n; ++i) sum += a[i];",
                                        "if (x == nullptr) throw std::runtime_error(\"null\");",
                                        "std::vector<int> v(10, 0); v.push_back(42);",
                                        "while (!done) { done = step(); }",
                                        "return std::max(a, b) - std::min(a, b);"};

class TrainingRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = std::make_unique<testing::ScratchFolder>("run");
    tokenizer_ = testing::write_byte_tokenizer(scratch_->path() / "tokenizer");
    config_ =
        testing::write_config(scratch_->path() / "config.json", testing::tiny_training_config());
    poems_ = testing::write_text(scratch_->path() / "poems", testing::fortune_file(kPoems));
    code_ = testing::write_text(scratch_->path() / "code", testing::fortune_file(kCode));
  }
  static void TearDownTestSuite() { scratch_.reset(); }

  static BaseTrainingOptions base_options(const std::string& out) {
    BaseTrainingOptions o;
    o.model_config = config_;
    o.tokenizer = tokenizer_;
    o.training.data = {poems_};
    o.training.out = scratch_->path() / out;
    o.training.steps = 40;
    o.training.batch = 4;
    o.training.context = 32;
    o.training.learning_rate = 3e-3;
    o.training.heldout_fraction = 0;
    o.training.threads = 1;
    return o;
  }
  // One base for the LoRA tests, trained on both corpora when first needed (ctest runs each
  // test in a process of its own).
  static const fs::path& base() {
    if (base_.empty()) {
      BaseTrainingOptions o = base_options("base");
      o.training.data = {poems_, code_};
      o.training.steps = 120;
      o.training.warmup_steps = 10;
      o.training.weight_decay = 0;
      const TrainingResult result = train_base(o, {});
      EXPECT_FALSE(result.interrupted);
      base_ = result.out;
    }
    return base_;
  }
  static LoraTrainingOptions lora_options(const std::string& out, const fs::path& data) {
    LoraTrainingOptions o;
    o.model = base();
    o.targets = {"all-linear"};
    o.training.data = {data};
    o.training.out = scratch_->path() / out;
    o.training.steps = 40;
    o.training.batch = 4;
    o.training.context = 32;
    o.training.learning_rate = 1e-2;
    o.training.heldout_fraction = 0;
    o.training.threads = 1;
    return o;
  }

  static inline std::unique_ptr<testing::ScratchFolder> scratch_;
  static inline fs::path tokenizer_, config_, poems_, code_, base_;
};

TEST_F(TrainingRun, MemorisesATinyCorpusWithinSeconds) {
  BaseTrainingOptions o = base_options("memorised");
  o.training.steps = 200;
  o.training.warmup_steps = 10;
  o.training.learning_rate = 1e-2;
  o.training.weight_decay = 0;
  o.training.eval_every = 0;
  const auto start = std::chrono::steady_clock::now();
  const TrainingResult result = train_base(o, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // 380 bytes of verse: a uniform guess costs ln(257) = 5.5 nats a byte; the bound asks for
  // most of each poem to be known by heart.
  EXPECT_LT(result.loss, 0.5) << "after " << result.step << " steps";
  EXPECT_LT(seconds, 30.0);
  EXPECT_EQ(result.step, 200);
  EXPECT_EQ(result.tokens, 200 * 4 * 32);
}

TEST_F(TrainingRun, SavedFolderLoadsInQdgenWithTheTrainingModulesLogits) {
  const BaseTrainingOptions o = base_options("saved");
  const TrainingResult result = train_base(o, {});
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json",
                           "tokenizer_config.json", "generation_config.json"}) {
    EXPECT_TRUE(fs::exists(result.out / file)) << file;
  }
  // The training module's own weights, as its final checkpoint holds them (fused layout).
  const LlamaConfig config = read_llama_config(result.out / "config.json");
  training::LlamaTrainable trainable(config);
  const auto checkpoint = SafetensorsFile::open(result.checkpoint / "weights.safetensors");
  for (const training::TrainableParameter& p : trainable.parameters()) {
    const TensorView* view = checkpoint->find(p.name);
    ASSERT_NE(view, nullptr) << p.name;
    at::Tensor tensor = p.tensor;
    convert_to_f32(*view, std::span<float>(tensor.data_ptr<float>(),
                                           static_cast<std::size_t>(tensor.numel())));
  }
  const auto tokenizer = load_tokenizer(result.out / "tokenizer.json");
  const auto ids = tokenizer->encode("Roses are red, the wind in the willows", false);
  at::Tensor tokens = at::empty({1, static_cast<std::int64_t>(ids.size())}, at::kLong);
  for (std::size_t i = 0; i < ids.size(); ++i) tokens[0][static_cast<std::int64_t>(i)] = ids[i];
  const at::Tensor logits = trainable.logits(tokens)[0];

  const auto model = LlamaModel::load(result.out);
  const std::vector<float> expected = model->forward_logits(ids);
  const at::Tensor reference =
      at::from_blob(const_cast<float*>(expected.data()),
                    {static_cast<std::int64_t>(ids.size()), config.vocab_size});
  EXPECT_LT((logits - reference).abs().max().item<float>(), 1e-4f);
  EXPECT_EQ(config.eos_token_ids, std::vector<std::int64_t>{256});  // <|endoftext|>
  EXPECT_EQ(tokenizer->eos_id(), 256);
}

// Stops a run after `stop_at` steps through the stop flag, as Ctrl-C would.
template <typename Options, typename Train>
TrainingResult run_stopped_then_resumed(Options options, std::int64_t stop_at, Train train) {
  std::atomic<bool> stop{false};
  options.training.stop = &stop;
  const TrainingResult stopped = train(options, [&](const TrainingProgress& p) {
    if (p.step == stop_at) stop.store(true);
  });
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.step, stop_at);
  EXPECT_FALSE(fs::exists(options.training.out));
  options.training.stop = nullptr;
  options.training.resume = true;
  return train(options, {});
}

void expect_resume_equals_uninterrupted(BaseTrainingOptions straight, const fs::path& resumed_out) {
  straight.training.steps = 14;
  straight.training.heldout_fraction = 0.2;
  straight.training.eval_every = 3;
  straight.training.checkpoint_every = 4;
  BaseTrainingOptions resumed = straight;
  resumed.training.out = resumed_out;
  const TrainingResult a = train_base(straight, {});
  // Stopped mid-epoch and between checkpoints: the data position and the optimiser state
  // must come back exactly.
  const TrainingResult b = run_stopped_then_resumed(resumed, 7, train_base);
  EXPECT_EQ(b.step, 14);
  EXPECT_EQ(file_bytes(a.out / "model.safetensors"), file_bytes(b.out / "model.safetensors"));
  EXPECT_EQ(a.heldout_loss, b.heldout_loss);
}

TEST_F(TrainingRun, ResumedBaseEndsInTheUninterruptedWeights) {
  expect_resume_equals_uninterrupted(base_options("straight"), scratch_->path() / "resumed");
}

// Two threads split ATen's loops and OpenBLAS's products: still the same bits at that count.
TEST_F(TrainingRun, ResumedBaseEndsInTheUninterruptedWeightsOnTwoThreads) {
  BaseTrainingOptions o = base_options("straight2");
  o.training.threads = 2;
  expect_resume_equals_uninterrupted(o, scratch_->path() / "resumed2");
}

TEST_F(TrainingRun, ResumedLoraEndsInTheUninterruptedAdapter) {
  LoraTrainingOptions straight = lora_options("lora_straight", poems_);
  straight.training.steps = 10;
  LoraTrainingOptions resumed = lora_options("lora_resumed", poems_);
  resumed.training.steps = 10;
  const TrainingResult a = train_lora(straight, {});
  const TrainingResult b = run_stopped_then_resumed(resumed, 3, train_lora);
  EXPECT_EQ(file_bytes(a.out / "adapter_model.safetensors"),
            file_bytes(b.out / "adapter_model.safetensors"));
}

TEST_F(TrainingRun, ResumeRefusesAnotherRunsSettings) {
  BaseTrainingOptions o = base_options("refused");
  o.training.steps = 6;
  std::atomic<bool> stop{true};
  o.training.stop = &stop;
  ASSERT_TRUE(train_base(o, {}).interrupted);
  o.training.stop = nullptr;
  o.training.resume = true;
  o.training.learning_rate = 1e-3;
  try {
    train_base(o, {});
    FAIL() << "resumed with another learning rate";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              (scratch_->path() / "refused.checkpoint").string() +
                  ": the checkpoint's run has learning_rate = 0.003, this one 0.001 (resume with "
                  "the same settings, or start over with --overwrite)");
  }
}

// Mean log-likelihood per token of `documents` under the base with `adapter` merged at weight 1
// (or the base alone).
double mean_loglik(const fs::path& base, const LoraAdapter* adapter,
                   const std::vector<std::string>& documents) {
  const HfModelFolder folder = open_hf_folder(base);
  std::vector<OwnedTensor> tensors;
  for (const TensorSpec& spec : llama_tensor_specs(folder.config)) {
    const TensorView* view = folder.weights->find(spec.name);
    OwnedTensor t{spec.name, spec.shape,
                  std::vector<float>(static_cast<std::size_t>(view->numel()))};
    convert_to_f32(*view, t.data);
    tensors.push_back(std::move(t));
  }
  if (adapter != nullptr) merge_lora_adapters(folder.config, tensors, {adapter}, {1.0});
  const auto model = LlamaModel::from_tensors(folder.config, tensors);
  const auto tokenizer = load_tokenizer(base / "tokenizer.json");
  const std::vector<std::int32_t> prompt = {256};  // every document follows an end-of-text
  double total = 0;
  std::int64_t count = 0;
  for (const std::string& document : documents) {
    auto ids = tokenizer->encode(document, false);
    ids.push_back(256);
    total += model->score(prompt, std::vector<std::vector<std::int32_t>>{ids})[0];
    count += static_cast<std::int64_t>(ids.size());
  }
  return total / static_cast<double>(count);
}

TEST_F(TrainingRun, AdapterRaisesItsOwnCorpusMoreThanAnother) {
  LoraTrainingOptions o = lora_options("lora_poems", poems_);
  o.training.steps = 60;
  const TrainingResult poems = train_lora(o, {});
  const LoraAdapter adapter =
      read_peft_adapter(poems.out, read_llama_config(base() / "config.json"), "poems");
  const double poems_gain =
      mean_loglik(base(), &adapter, kPoems) - mean_loglik(base(), nullptr, kPoems);
  const double code_gain =
      mean_loglik(base(), &adapter, kCode) - mean_loglik(base(), nullptr, kCode);
  // Measured: +0.16 on the poems, -0.41 on the code (nats per token).
  EXPECT_GT(poems_gain, 0.05);
  EXPECT_GT(poems_gain - code_gain, 0.2);
}

TEST_F(TrainingRun, LoraLeavesTheBaseFolderUntouched) {
  const std::string before = file_bytes(base() / "model.safetensors");
  LoraTrainingOptions o = lora_options("lora_untouched", code_);
  o.training.steps = 5;
  o.targets = {"q_proj", "v_proj"};
  train_lora(o, {});
  EXPECT_EQ(file_bytes(base() / "model.safetensors"), before);
  const auto config = nlohmann::json::parse(file_bytes(o.training.out / "adapter_config.json"));
  EXPECT_EQ(config["target_modules"], (nlohmann::json{"q_proj", "v_proj"}));
  EXPECT_EQ(config["r"], 8);
  EXPECT_EQ(config["lora_alpha"], 16.0);
}

}  // namespace
}  // namespace qdgen::inference
