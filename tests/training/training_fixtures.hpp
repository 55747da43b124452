#pragma once
// Small things the training tests share: a byte-level tokenizer.json of 257 tokens (the
// 256 bytes in GPT-2's byte map, then <|endoftext|>), tiny model configs, and corpora.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qdgen/inference/model_config.hpp"

namespace qdgen::testing {

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards.
inline std::string byte_symbol(int byte) {
  const auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  int code = byte;
  if (!printable(byte)) {
    int shifted = 0;
    for (int b = 0; b < byte; ++b) {
      if (!printable(b)) ++shifted;
    }
    code = 256 + shifted;
  }
  std::string utf8;
  if (code < 0x80) {
    utf8 += static_cast<char>(code);
  } else {
    utf8 += static_cast<char>(0xC0 | (code >> 6));
    utf8 += static_cast<char>(0x80 | (code & 0x3F));
  }
  return utf8;
}

// Writes `folder`/tokenizer.json: a byte-level BPE without merges (one token per byte).
inline std::filesystem::path write_byte_tokenizer(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_symbol(b)] = b;
  const nlohmann::json byte_level = {{"type", "ByteLevel"},
                                     {"add_prefix_space", false},
                                     {"trim_offsets", true},
                                     {"use_regex", true}};
  const nlohmann::json tokenizer = {
      {"version", "1.0"},
      {"added_tokens",
       {{{"id", 256},
         {"content", "<|endoftext|>"},
         {"single_word", false},
         {"lstrip", false},
         {"rstrip", false},
         {"normalized", false},
         {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", byte_level},
      {"post_processor", nullptr},
      {"decoder", byte_level},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  const auto path = folder / "tokenizer.json";
  std::ofstream(path) << tokenizer.dump();
  return path;
}

// A tiny Llama for the byte tokenizer (vocab 260: a little room beyond its 257 tokens).
inline inference::LlamaConfig tiny_training_config(bool tied = true) {
  inference::LlamaConfig c;
  c.vocab_size = 260;
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.max_position_embeddings = 128;
  c.tie_word_embeddings = tied;
  return c;
}

inline std::filesystem::path write_config(const std::filesystem::path& path,
                                          const inference::LlamaConfig& config) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << inference::to_json(config).dump(2);
  return path;
}

inline std::filesystem::path write_text(const std::filesystem::path& path,
                                        const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// A fresh scratch folder per test and process, removed afterwards.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("qdgen_training_" + name + "_" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Records in the fortune format.
inline std::string fortune_file(const std::vector<std::string>& records) {
  std::string text;
  for (const std::string& record : records) text += record + "\n%\n";
  return text;
}

}  // namespace qdgen::testing
