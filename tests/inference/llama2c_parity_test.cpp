// qdgen's greedy output on a llama2.c checkpoint must equal run.c's token for token. The
// reference (tests/common/llama2c_reference.hpp) re-implements run.c's forward pass in plain
// fp32 on the raw file; the checkpoints here are written directly in run.c's layout (as
// export.py writes them), so qdgen's reader, its q/k permutation and the libtorch forward
// are all under test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "llama2c_reference.hpp"
#include "qdgen/inference/model.hpp"
#include "random_llama.hpp"

namespace qdgen::inference {
namespace {

struct RawShape {
  std::int32_t dim, hidden, layers, heads, kv_heads, vocab, seq_len;
  bool shared_classifier;
};

// A readable, stable name for listings: "dim64_layers3_heads4_kv2_shared".
std::string shape_name(const RawShape& s) {
  return "dim" + std::to_string(s.dim) + "_layers" + std::to_string(s.layers) + "_heads" +
         std::to_string(s.heads) + "_kv" + std::to_string(s.kv_heads) +
         (s.shared_classifier ? "_shared" : "_untied");
}
void PrintTo(const RawShape& shape, std::ostream* out) {
  *out << shape_name(shape);
}

std::filesystem::path write_raw_llama2c(const RawShape& s, std::uint64_t seed,
                                        const std::string& name) {
  std::mt19937_64 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto path = std::filesystem::temp_directory_path() /
                    ("qdgen_parity_" + name + "." + std::to_string(::getpid()) + ".bin");
  std::ofstream file(path, std::ios::binary);
  const std::int32_t header[7] = {s.dim,    s.hidden,   s.layers,
                                  s.heads,  s.kv_heads, s.shared_classifier ? s.vocab : -s.vocab,
                                  s.seq_len};
  file.write(reinterpret_cast<const char*>(header), sizeof header);
  const auto block = [&](std::size_t count, float scale, float offset) {
    std::vector<float> values(count);
    for (float& value : values) value = offset + scale * normal(random);
    file.write(reinterpret_cast<const char*>(values.data()),
               static_cast<std::streamsize>(count * sizeof(float)));
  };
  const std::size_t d = s.dim, f = s.hidden, l = s.layers, v = s.vocab;
  const std::size_t kv = d * s.kv_heads / s.heads, head = d / s.heads;
  // A shared classifier scores each token's own embedding highest, so greedy text repeats
  // one token unless the embeddings are small beside what the layers add.
  block(v * d, s.shared_classifier ? 0.2f : 1.0f, 0.0f);  // token embedding
  block(l * d, 0.1f, 1.0f);                               // rms_att
  block(l * d * d, 1 / std::sqrt(float(d)), 0);           // wq
  block(l * kv * d, 1 / std::sqrt(float(d)), 0);          // wk
  block(l * kv * d, 1 / std::sqrt(float(d)), 0);          // wv
  block(l * d * d, 1 / std::sqrt(float(d)), 0);           // wo
  block(l * d, 0.1f, 1.0f);                               // rms_ffn
  block(l * f * d, 1 / std::sqrt(float(d)), 0);           // w1
  block(l * d * f, 1 / std::sqrt(float(f)), 0);           // w2
  block(l * f * d, 1 / std::sqrt(float(d)), 0);           // w3
  block(d, 0.1f, 1.0f);                                   // rms_final
  block(s.seq_len * head / 2, 1.0f, 0.0f);                // freq_cis_real (unused by run.c)
  block(s.seq_len * head / 2, 1.0f, 0.0f);                // freq_cis_imag
  if (!s.shared_classifier) block(v * d, 1.0f, 0.0f);
  return path;
}

std::vector<std::int32_t> qdgen_greedy(LlamaModel& model, const std::vector<std::int32_t>& prompt,
                                       std::int64_t new_tokens) {
  TokenRequest request;
  request.prompt = prompt;
  request.max_tokens = new_tokens;
  request.sampling.temperature = 0;
  request.stop_at_eos = false;  // the reference runs to the end; termination is tested below
  return model.generate(std::span(&request, 1))[0].tokens;
}

class Llama2cParity : public ::testing::TestWithParam<RawShape> {};

TEST_P(Llama2cParity, GreedyTokensEqualRunC) {
  const RawShape shape = GetParam();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const auto path =
        write_raw_llama2c(shape, seed, std::to_string(shape.vocab) + "_" + std::to_string(seed));
    testing::Llama2cReference reference(path);
    const auto model = LlamaModel::load(path, {"cpu", 1});
    const std::vector<std::int32_t> prompt = {1, static_cast<std::int32_t>(seed * 7 % shape.vocab),
                                              5};
    const int new_tokens = shape.seq_len - 3;
    const auto expected = reference.greedy(prompt, new_tokens);
    const auto actual = qdgen_greedy(*model, prompt, new_tokens);
    EXPECT_EQ(actual, expected) << "seed " << seed;
    // Not a degenerate run: random greedy text falls into loops, but not onto one token.
    EXPECT_GE(std::set<std::int32_t>(expected.begin(), expected.end()).size(), 3u)
        << "seed " << seed;
  }
}

// Largest |run.c logit - qdgen logit| over every position of ids and every vocabulary entry;
// `logits` is qdgen's forward_logits(ids), position-major.
template <class Logits>
double worst_logit_gap(testing::Llama2cReference& reference, const std::vector<std::int32_t>& ids,
                       const Logits& logits, std::int32_t vocab) {
  double worst = 0;
  for (std::size_t pos = 0; pos < ids.size(); ++pos) {
    const auto& expected = reference.forward(ids[pos], static_cast<std::int32_t>(pos));
    for (std::int32_t v = 0; v < vocab; ++v) {
      worst = std::max(worst, std::abs(double(expected[v]) - logits[pos * vocab + v]));
    }
  }
  return worst;
}

TEST_P(Llama2cParity, LogitsEqualRunCAtEveryPosition) {
  const RawShape shape = GetParam();
  const auto path = write_raw_llama2c(shape, 9, "logits_" + std::to_string(shape.vocab));
  testing::Llama2cReference reference(path);
  const auto model = LlamaModel::load(path, {"cpu", 1});
  std::vector<std::int32_t> ids;
  std::mt19937_64 random(4);
  for (int i = 0; i < 40; ++i) ids.push_back(static_cast<std::int32_t>(random() % shape.vocab));
  const auto logits = model->forward_logits(ids);
  EXPECT_LT(worst_logit_gap(reference, ids, logits, shape.vocab), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Llama2cParity,
                         ::testing::Values(RawShape{64, 160, 3, 4, 2, 128, 96, true},
                                           RawShape{48, 128, 2, 6, 6, 200, 80, false},
                                           RawShape{64, 96, 2, 8, 1, 96, 64, true}),
                         [](const ::testing::TestParamInfo<RawShape>& shape) {
                           return shape_name(shape.param);
                         });

// qdgen uses the widest CPU kernels the machine has; ModelOptions::cpu_kernels picks a narrower
// set, so that the AVX2 and portable paths are checked on an AVX-512 machine too. Each model
// keeps its own set, so these run in any process, beside models on other sets.
class NarrowCpuKernels : public ::testing::TestWithParam<const char*> {};

TEST_P(NarrowCpuKernels, GiveRunCsTokensAndLogitsAndBatchedEqualsAlone) {
  const RawShape shape{64, 160, 3, 4, 2, 128, 96, true};
  const auto path = write_raw_llama2c(shape, 21, std::string("kernels_") + GetParam());
  ModelOptions options{"cpu", 2};
  options.cpu_kernels = GetParam();
  const auto model = LlamaModel::load(path, options);
  ASSERT_NE(model->device_name().find(std::string(GetParam()) + " kernels"), std::string::npos)
      << model->device_name();
  testing::Llama2cReference reference(path);
  const std::vector<std::int32_t> prompt = {1, 17, 5};
  EXPECT_EQ(qdgen_greedy(*model, prompt, 60), reference.greedy(prompt, 60));

  std::vector<std::int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back((i * 37 + 11) % shape.vocab);
  const auto logits = model->forward_logits(ids);
  EXPECT_LT(worst_logit_gap(reference, ids, logits, shape.vocab), 1e-3);

  // Five rows: blocks of rows with a tail, in both the prompt pass and decoding.
  std::vector<TokenRequest> requests(5);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    for (std::size_t t = 0; t < 2 + i; ++t) {
      requests[i].prompt.push_back(static_cast<std::int32_t>((i * 13 + t * 5 + 2) % 128));
    }
    requests[i].max_tokens = 10;
    requests[i].sampling.temperature = 0;
    requests[i].stop_at_eos = false;
  }
  const auto batched = model->generate(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(batched[i].tokens, reference.greedy(requests[i].prompt, 10)) << "request " << i;
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Sets, NarrowCpuKernels, ::testing::Values("avx2", "portable"));

TEST(CpuKernelChoice, AnUnknownSetIsRefusedByName) {
  const RawShape shape{32, 64, 1, 4, 4, 16, 64, true};
  const auto path = write_raw_llama2c(shape, 6, "kernels_unknown");
  ModelOptions options{"cpu", 1};
  options.cpu_kernels = "sse2";
  std::string message;
  try {
    LlamaModel::load(path, options);
  } catch (const std::exception& e) {
    message = e.what();
  }
  std::filesystem::remove(path);
  EXPECT_EQ(message, "cpu_kernels 'sse2': expected auto, avx512, avx2 or portable");
}

TEST(Llama2cTermination, GenerationStopsAtTheBosTokenLikeRunC) {
  // run.c ends a story when it samples token 1 (BOS); qdgen reads that as the eos id.
  const RawShape shape{32, 64, 1, 4, 4, 16, 64, true};
  const auto path = write_raw_llama2c(shape, 5, "termination");
  const auto model = LlamaModel::load(path, {"cpu", 1});
  testing::Llama2cReference reference(path);
  const auto free_run = reference.greedy({1, 3}, 60);
  const auto first_bos = std::find(free_run.begin(), free_run.end(), 1);
  TokenRequest request;
  request.prompt = {1, 3};
  request.max_tokens = 60;
  request.sampling.temperature = 0;
  const auto result = model->generate(std::span(&request, 1))[0];
  if (first_bos == free_run.end()) {
    EXPECT_EQ(result.tokens, free_run);
  } else {
    EXPECT_EQ(result.finish, FinishReason::kEos);
    EXPECT_EQ(result.tokens, std::vector<std::int32_t>(free_run.begin(), first_bos + 1));
  }
}

TEST(Loaders, HfFolderAndLlama2cFileGiveTheSameLogits) {
  const auto directory = std::filesystem::temp_directory_path() /
                         (std::string("qdgen_loaders_agree.") + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  for (const bool tied : {true, false}) {
    const auto config = testing::tiny_llama_config(tied);
    const auto files =
        testing::write_random_llama(directory / (tied ? "tied" : "untied"), config, 11);
    const auto from_folder = LlamaModel::load(files.hf_folder, {"cpu", 1});
    const auto from_bin = LlamaModel::load(files.llama2c_file, {"cpu", 1});
    const auto from_memory = LlamaModel::from_tensors(config, files.tensors, {"cpu", 1});
    const std::vector<std::int32_t> ids = {1, 5, 9, 33, 2, 60, 7};
    const auto a = from_folder->forward_logits(ids), b = from_bin->forward_logits(ids);
    const auto c = from_memory->forward_logits(ids);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(a[i], b[i], 1e-4) << "tied " << tied << " at " << i;
      EXPECT_EQ(a[i], c[i]);
    }
    // And run.c agrees with the llama2.c copy that qdgen's writer produced.
    testing::Llama2cReference reference(files.llama2c_file);
    EXPECT_EQ(qdgen_greedy(*from_folder, {1, 5}, 40), reference.greedy({1, 5}, 40));
  }
}

TEST(Loaders, HalfPrecisionFolderLoadsCloseToF32) {
  const auto directory = std::filesystem::temp_directory_path() /
                         (std::string("qdgen_loaders_half.") + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  const auto config = testing::tiny_llama_config(false);
  const auto f32 = testing::write_random_llama(directory / "f32", config, 12);
  const auto bf16 = testing::write_random_llama(directory / "bf16", config, 12, DType::kBF16);
  const auto f16 = testing::write_random_llama(directory / "f16", config, 12, DType::kF16);
  const std::vector<std::int32_t> ids = {1, 4, 8, 15, 16, 23, 42};
  const auto reference = LlamaModel::load(f32.hf_folder)->forward_logits(ids);
  const auto half = LlamaModel::load(f16.hf_folder)->forward_logits(ids);
  const auto brain = LlamaModel::load(bf16.hf_folder)->forward_logits(ids);
  for (std::size_t i = 0; i < reference.size(); ++i) {
    EXPECT_NEAR(half[i], reference[i], 0.02) << i;
    EXPECT_NEAR(brain[i], reference[i], 0.2) << i;
  }
}

}  // namespace
}  // namespace qdgen::inference
