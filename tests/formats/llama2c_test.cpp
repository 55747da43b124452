// llama2.c checkpoints: run.c's weight order, the RoPE row permutation, round trips with the
// writer, and malformed files.

#include "qdgen/inference/llama2c.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "random_llama.hpp"

namespace qdgen::inference {
namespace {

namespace fs = std::filesystem;

class Llama2c : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("qdgen_llama2c_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// A llama2.c file laid out by hand from run.c's memory_map_weights(), independently of the
// library: each named stretch of floats is recorded so tests can look values up.
struct HandMadeFile {
  std::int32_t header[7];
  std::vector<float> floats;
  std::map<std::string, std::size_t> offsets;  // name -> first float

  std::string bytes() const {
    std::string out(reinterpret_cast<const char*>(header), sizeof(header));
    out.append(reinterpret_cast<const char*>(floats.data()), floats.size() * sizeof(float));
    return out;
  }
};

HandMadeFile hand_made(int dim, int hidden, int layers, int heads, int kv_heads, int vocab,
                       int seq_len, std::uint64_t seed) {
  HandMadeFile file{{dim, hidden, layers, heads, kv_heads, vocab, seq_len}, {}, {}};
  const int head_size = dim / heads;
  const int kv_dim = kv_heads * head_size;
  const int abs_vocab = std::abs(vocab);
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const auto add = [&](const std::string& name, std::size_t count) {
    file.offsets[name] = file.floats.size();
    for (std::size_t i = 0; i < count; ++i) file.floats.push_back(uniform(random));
  };
  const auto L = static_cast<std::size_t>(layers);
  add("token_embedding_table", static_cast<std::size_t>(abs_vocab * dim));
  add("rms_att_weight", L * dim);
  add("wq", L * dim * dim);
  add("wk", L * dim * kv_dim);
  add("wv", L * dim * kv_dim);
  add("wo", L * dim * dim);
  add("rms_ffn_weight", L * dim);
  add("w1", L * dim * hidden);
  add("w2", L * hidden * dim);
  add("w3", L * dim * hidden);
  add("rms_final_weight", static_cast<std::size_t>(dim));
  add("freq_cis_real", static_cast<std::size_t>(seq_len * head_size / 2));
  add("freq_cis_imag", static_cast<std::size_t>(seq_len * head_size / 2));
  if (vocab < 0) add("wcls", static_cast<std::size_t>(abs_vocab * dim));
  return file;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size()));
}

std::string read_bytes(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

const OwnedTensor& tensor(const Llama2cCheckpoint& checkpoint, const std::string& name) {
  for (const OwnedTensor& t : checkpoint.tensors) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

TEST_F(Llama2c, ReadsRunCsWeightOrderIntoHfNames) {
  const HandMadeFile file = hand_made(8, 12, 2, 2, 1, -7, 4, 1);
  write_bytes(dir_ / "m.bin", file.bytes());
  const Llama2cCheckpoint checkpoint = read_llama2c(dir_ / "m.bin");

  const LlamaConfig& config = checkpoint.config;
  EXPECT_EQ(config.architecture, "LlamaForCausalLM");
  EXPECT_EQ(config.vocab_size, 7);
  EXPECT_EQ(config.hidden_size, 8);
  EXPECT_EQ(config.intermediate_size, 12);
  EXPECT_EQ(config.num_hidden_layers, 2);
  EXPECT_EQ(config.num_attention_heads, 2);
  EXPECT_EQ(config.num_key_value_heads, 1);
  EXPECT_EQ(config.head_dim, 4);
  EXPECT_EQ(config.max_position_embeddings, 4);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(config.rope_theta, 10000.0);
  EXPECT_FALSE(config.tie_word_embeddings);  // negative vocab_size
  EXPECT_EQ(config.bos_token_id, 1);
  ASSERT_EQ(checkpoint.tensors.size(), llama_tensor_specs(config).size());
  for (const TensorSpec& spec : llama_tensor_specs(config)) {
    EXPECT_EQ(tensor(checkpoint, spec.name).shape, spec.shape) << spec.name;
  }

  // Plain copies: layer 1's slice of each run.c array is HF's layer-1 tensor.
  const auto expect_slice = [&](const std::string& hf_name, const std::string& array,
                                std::size_t layer) {
    const OwnedTensor& t = tensor(checkpoint, hf_name);
    const std::size_t begin = file.offsets.at(array) + layer * t.data.size();
    for (std::size_t i = 0; i < t.data.size(); ++i) {
      ASSERT_EQ(t.data[i], file.floats[begin + i]) << hf_name << " element " << i;
    }
  };
  expect_slice("model.embed_tokens.weight", "token_embedding_table", 0);
  expect_slice("model.layers.1.input_layernorm.weight", "rms_att_weight", 1);
  expect_slice("model.layers.1.self_attn.v_proj.weight", "wv", 1);
  expect_slice("model.layers.1.self_attn.o_proj.weight", "wo", 1);
  expect_slice("model.layers.1.post_attention_layernorm.weight", "rms_ffn_weight", 1);
  expect_slice("model.layers.1.mlp.gate_proj.weight", "w1", 1);
  expect_slice("model.layers.1.mlp.down_proj.weight", "w2", 1);
  expect_slice("model.layers.1.mlp.up_proj.weight", "w3", 1);
  expect_slice("model.norm.weight", "rms_final_weight", 0);
  expect_slice("lm_head.weight", "wcls", 0);

  // q/k rows: per head, HF row j is llama2.c row 2j and HF row j + head_size/2 is row 2j+1.
  const OwnedTensor& q = tensor(checkpoint, "model.layers.1.self_attn.q_proj.weight");
  const std::size_t wq1 = file.offsets.at("wq") + 64;
  const int hf_to_llama2c[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int row = 0; row < 8; ++row) {
    for (int col = 0; col < 8; ++col) {
      ASSERT_EQ(q.data[row * 8 + col], file.floats[wq1 + hf_to_llama2c[row] * 8 + col]);
    }
  }
}

// The meaning of the permutation: attention scores after llama2.c's RoPE on its own weights
// equal the scores after HF's rotate-half RoPE on the converted weights.
std::vector<double> matvec(const std::vector<float>& w, std::size_t offset, int rows, int cols,
                           const std::vector<double>& x) {
  std::vector<double> y(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) y[r] += w[offset + r * cols + c] * x[c];
  }
  return y;
}

void rope_llama2c(std::vector<double>& v, int head_size, int pos) {  // run.c's loop
  for (std::size_t i = 0; i < v.size(); i += 2) {
    const double freq = 1.0 / std::pow(10000.0, static_cast<double>(i % head_size) / head_size);
    const double c = std::cos(pos * freq), s = std::sin(pos * freq);
    const double v0 = v[i], v1 = v[i + 1];
    v[i] = v0 * c - v1 * s;
    v[i + 1] = v0 * s + v1 * c;
  }
}

void rope_hf(std::vector<double>& v, int head_size, int pos) {  // apply_rotary_pos_emb
  const int half = head_size / 2;
  for (std::size_t head = 0; head < v.size(); head += head_size) {
    for (int j = 0; j < half; ++j) {
      const double inv_freq = 1.0 / std::pow(10000.0, 2.0 * j / head_size);
      const double c = std::cos(pos * inv_freq), s = std::sin(pos * inv_freq);
      const double x1 = v[head + j], x2 = v[head + j + half];
      v[head + j] = x1 * c - x2 * s;
      v[head + j + half] = x2 * c + x1 * s;
    }
  }
}

TEST_F(Llama2c, PermutedWeightsGiveTheSameAttentionScoresUnderHfRope) {
  const int dim = 16, heads = 4, kv_heads = 2, head_size = 4;
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    const HandMadeFile file = hand_made(dim, 8, 1, heads, kv_heads, 5, 8, seed);
    write_bytes(dir_ / "m.bin", file.bytes());
    const Llama2cCheckpoint checkpoint = read_llama2c(dir_ / "m.bin");
    const std::vector<float>& q_hf =
        tensor(checkpoint, "model.layers.0.self_attn.q_proj.weight").data;
    const std::vector<float>& k_hf =
        tensor(checkpoint, "model.layers.0.self_attn.k_proj.weight").data;
    std::mt19937_64 random(seed + 100);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<double> x1(dim), x2(dim);
    for (double& v : x1) v = uniform(random);
    for (double& v : x2) v = uniform(random);
    const int p1 = 5, p2 = 2;
    std::vector<double> q_a = matvec(file.floats, file.offsets.at("wq"), dim, dim, x1);
    std::vector<double> k_a =
        matvec(file.floats, file.offsets.at("wk"), kv_heads * head_size, dim, x2);
    rope_llama2c(q_a, head_size, p1);
    rope_llama2c(k_a, head_size, p2);
    std::vector<double> q_b = matvec(q_hf, 0, dim, dim, x1);
    std::vector<double> k_b = matvec(k_hf, 0, kv_heads * head_size, dim, x2);
    rope_hf(q_b, head_size, p1);
    rope_hf(k_b, head_size, p2);
    for (int h = 0; h < heads; ++h) {
      const int kv = h / (heads / kv_heads);
      double score_a = 0, score_b = 0;
      for (int d = 0; d < head_size; ++d) {
        score_a += q_a[h * head_size + d] * k_a[kv * head_size + d];
        score_b += q_b[h * head_size + d] * k_b[kv * head_size + d];
      }
      EXPECT_NEAR(score_a, score_b, 1e-9) << "seed " << seed << " head " << h;
    }
  }
}

TEST_F(Llama2c, WriterReproducesAHandMadeFileOutsideTheRopeTables) {
  for (const int vocab : {7, -7}) {
    const HandMadeFile file = hand_made(8, 12, 2, 2, 1, vocab, 4, 3);
    write_bytes(dir_ / "in.bin", file.bytes());
    const Llama2cCheckpoint checkpoint = read_llama2c(dir_ / "in.bin");
    write_llama2c(dir_ / "out.bin", checkpoint.config, checkpoint.tensors);
    const std::string original = file.bytes();
    const std::string written = read_bytes(dir_ / "out.bin");
    ASSERT_EQ(written.size(), original.size());
    const std::size_t tables_begin = 28 + 4 * file.offsets.at("freq_cis_real");
    const std::size_t tables_end = tables_begin + 2 * sizeof(float) * (4 * 4 / 2);  // seq 4, hs 4
    EXPECT_EQ(written.substr(0, tables_begin), original.substr(0, tables_begin));
    EXPECT_EQ(written.substr(tables_end), original.substr(tables_end));
    // The tables hold what legacy_export writes: cos and sin of pos * 10000^(-2i/head_size).
    float real[8], imag[8];
    std::memcpy(real, written.data() + tables_begin, sizeof(real));
    std::memcpy(imag, written.data() + tables_begin + sizeof(real), sizeof(imag));
    EXPECT_FLOAT_EQ(real[0], 1.0f);
    EXPECT_FLOAT_EQ(real[1 * 2 + 1], std::cos(1.0f / 100.0f));  // pos 1, i 1
    EXPECT_FLOAT_EQ(imag[3 * 2 + 0], std::sin(3.0f));           // pos 3, i 0
  }
}

TEST_F(Llama2c, RandomModelsRoundTripThroughTheWriter) {
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    for (const bool tied : {true, false}) {
      const LlamaConfig config = testing::tiny_llama_config(tied);
      const std::vector<OwnedTensor> tensors = testing::random_llama_tensors(config, seed);
      write_llama2c(dir_ / "m.bin", config, tensors);
      const Llama2cCheckpoint checkpoint = read_llama2c(dir_ / "m.bin");
      ASSERT_EQ(checkpoint.tensors.size(), tensors.size());
      for (std::size_t i = 0; i < tensors.size(); ++i) {
        EXPECT_EQ(checkpoint.tensors[i].name, tensors[i].name);
        EXPECT_EQ(checkpoint.tensors[i].shape, tensors[i].shape);
        EXPECT_EQ(checkpoint.tensors[i].data, tensors[i].data) << tensors[i].name;
      }
      EXPECT_EQ(checkpoint.config.tie_word_embeddings, tied);
      EXPECT_EQ(checkpoint.config.hidden_size, config.hidden_size);
      EXPECT_EQ(checkpoint.config.num_key_value_heads, config.num_key_value_heads);
    }
  }
}

std::string read_error(const fs::path& path) {
  try {
    read_llama2c(path);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(no error)";
}

std::string with_header(std::string bytes, int index, std::int32_t value) {
  std::memcpy(bytes.data() + 4 * index, &value, 4);
  return bytes;
}

TEST_F(Llama2c, MalformedFilesGiveClearErrors) {
  const std::string good = hand_made(8, 12, 1, 2, 1, 5, 4, 7).bytes();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "file is 0 bytes, shorter than the 28-byte llama2.c header"},
      {good.substr(0, 20), "file is 20 bytes"},
      {good.substr(0, good.size() - 4), "needs " + std::to_string(good.size()) +
                                            " bytes, the file has " +
                                            std::to_string(good.size() - 4) + " (truncated?)"},
      {good + "tail", "needs " + std::to_string(good.size()) + " bytes, the file has " +
                          std::to_string(good.size() + 4)},
      {with_header(good, 0, -8), "dim must be positive"},
      {with_header(good, 1, 0), "hidden_dim must be positive"},
      {with_header(good, 2, 0), "n_layers must be positive"},
      {with_header(good, 3, 3), "n_heads does not divide dim"},
      {with_header(good, 4, 0), "n_kv_heads must be positive"},
      {with_header(good, 4, 3), "n_kv_heads does not divide n_heads"},
      {with_header(good, 5, 0), "vocab_size must be non-zero"},
      {with_header(good, 6, -1), "seq_len must be positive"},
      {with_header(with_header(good, 0, 6), 3, 2), "head size dim/n_heads is odd"},
      {with_header(good, 0, 0x616b3432), "version 1/2 export (magic \"ak42\")"},
      {with_header(with_header(good, 0, 1 << 30), 5, 1 << 30), "describes more than 2^64 bytes"},
      {with_header(with_header(good, 0, 1 << 14), 5, 1 << 14),
       "needs 4297654300 bytes, the file has 2268"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const fs::path path = dir_ / ("bad" + std::to_string(i));
    write_bytes(path, cases[i].first);
    const std::string message = read_error(path);
    EXPECT_NE(message.find(cases[i].second), std::string::npos)
        << "case " << i << ": expected \"" << cases[i].second << "\" in \"" << message << "\"";
    EXPECT_EQ(message.rfind(path.string(), 0), 0u) << message;
  }
  EXPECT_NE(read_error(dir_ / "missing.bin").find("cannot open"), std::string::npos);
}

TEST_F(Llama2c, EveryTruncationAndHeaderCorruptionIsRejectedCleanly) {
  const std::string good = hand_made(4, 4, 1, 2, 1, 3, 2, 9).bytes();
  for (std::size_t length = 0; length < good.size(); ++length) {
    const fs::path path = dir_ / ("cut" + std::to_string(length));
    write_bytes(path, good.substr(0, length));
    EXPECT_THROW(read_llama2c(path), std::runtime_error) << length;
  }
  std::mt19937_64 random(5);
  int accepted = 0;
  for (int trial = 0; trial < 500; ++trial) {
    std::string bytes = good;
    const std::size_t at = random() % 28;
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8)));
    const fs::path path = dir_ / ("flip" + std::to_string(trial));
    write_bytes(path, bytes);
    try {
      read_llama2c(path);
      ++accepted;  // e.g. the vocab_size sign bit with sizes that still match
    } catch (const std::runtime_error&) {
    }
  }
  EXPECT_LT(accepted, 50);
}

TEST_F(Llama2c, WriterRefusesWhatRunCCannotRepresent) {
  const LlamaConfig base = testing::tiny_llama_config();
  const std::vector<OwnedTensor> tensors = testing::random_llama_tensors(base, 1);
  const auto write_error = [&](const LlamaConfig& config, const std::vector<OwnedTensor>& t) {
    try {
      write_llama2c(dir_ / "w.bin", config, t);
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("(no error)");
  };
  LlamaConfig theta = base;
  theta.rope_theta = 500000.0;
  EXPECT_NE(write_error(theta, tensors).find("config key 'rope_theta'"), std::string::npos);
  LlamaConfig eps = base;
  eps.rms_norm_eps = 1e-6;
  EXPECT_NE(write_error(eps, tensors).find("config key 'rms_norm_eps'"), std::string::npos);
  LlamaConfig qwen = base;
  qwen.architecture = "Qwen2ForCausalLM";
  qwen.qkv_bias = true;
  EXPECT_NE(write_error(qwen, testing::random_llama_tensors(qwen, 1)).find("the model has biases"),
            std::string::npos);
  LlamaConfig scaled = base;
  scaled.rope_scaling = RopeScalingLlama3{};
  EXPECT_NE(write_error(scaled, tensors).find("rope_scaling"), std::string::npos);

  std::vector<OwnedTensor> missing = tensors;
  missing.erase(missing.begin() + 3);
  EXPECT_NE(
      write_error(base, missing).find("tensor 'model.layers.0.self_attn.k_proj.weight' is missing"),
      std::string::npos);
  std::vector<OwnedTensor> misshapen = tensors;
  misshapen[2].shape = {16, 64};
  EXPECT_NE(write_error(base, misshapen)
                .find("'model.layers.0.self_attn.q_proj.weight' has the wrong shape"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "w.bin"));
}

TEST_F(Llama2c, RandomLlamaWritesBothFormatsWithTheSameWeights) {
  const LlamaConfig config = testing::tiny_llama_config(false);
  const testing::RandomLlamaFiles files = testing::write_random_llama(dir_, config, 42);
  const Llama2cCheckpoint from_llama2c = read_llama2c(files.llama2c_file);
  const HfModelFolder from_hf = open_hf_folder(files.hf_folder);
  EXPECT_EQ(from_hf.config, config);
  for (const OwnedTensor& expected : files.tensors) {
    const TensorView* view = from_hf.weights->find(expected.name);
    ASSERT_NE(view, nullptr) << expected.name;
    std::vector<float> values(expected.data.size());
    convert_to_f32(*view, values);
    EXPECT_EQ(values, expected.data) << expected.name;
    EXPECT_EQ(tensor(from_llama2c, expected.name).data, expected.data) << expected.name;
  }
  // Same seed, same weights; another seed, others.
  EXPECT_EQ(testing::random_llama_tensors(config, 42)[5].data, files.tensors[5].data);
  EXPECT_NE(testing::random_llama_tensors(config, 43)[5].data, files.tensors[5].data);
}

}  // namespace
}  // namespace qdgen::inference
