// Tokenizer throughput on the English prose of the reference files (tokens per second).
// Baselines measured in this process: the first pass over the texts (empty word cache) for
// tokenizer.json, and run.c's own quadratic merge scan for llama2.c's tokenizer.bin.
// Usage: bench_tokenizer [DATA_DIR]   (default: ../shared/data/tokenizers beside the repo)

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "qdgen/inference/tokenizer.hpp"

namespace {

using qdgen::inference::TokenId;
using Clock = std::chrono::steady_clock;

std::vector<std::string> read_texts(const std::filesystem::path& jsonl) {
  std::vector<std::string> texts;
  std::ifstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) texts.push_back(nlohmann::json::parse(line)["text"]);
  return texts;
}

template <typename Encode>
std::pair<double, std::size_t> time_pass(const std::vector<std::string>& texts, Encode encode) {
  const auto start = Clock::now();
  std::size_t tokens = 0;
  for (const auto& text : texts) tokens += encode(text).size();
  return {std::chrono::duration<double>(Clock::now() - start).count(), tokens};
}

// run.c's encode, verbatim in C++: the baseline the heap-based merge must equal and beat.
std::vector<TokenId> run_c_encode(const qdgen::inference::Tokenizer& t,
                                  const std::unordered_map<std::string, float>& scores,
                                  const std::string& text) {
  std::vector<TokenId> tokens{1};
  if (!text.empty()) tokens.push_back(*t.token_to_id(" "));
  std::string buffer;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) buffer.clear();
    buffer.push_back(text[i]);
    if (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80 &&
        buffer.size() < 4)
      continue;
    if (const auto id = t.token_to_id(buffer)) {
      tokens.push_back(*id);
    } else {
      for (const char b : buffer) tokens.push_back(static_cast<unsigned char>(b) + 3);
    }
    buffer.clear();
  }
  std::vector<std::string> pieces;
  while (true) {
    float best_score = -1e10f;
    int best_id = -1;
    std::size_t best_idx = 0;
    for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
      const std::string joined = t.id_to_token(tokens[i]) + t.id_to_token(tokens[i + 1]);
      const auto it = scores.find(joined);
      if (it != scores.end() && it->second > best_score) {
        best_score = it->second;
        best_id = *t.token_to_id(joined);
        best_idx = i;
      }
    }
    if (best_id < 0) break;
    tokens[best_idx] = best_id;
    tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(best_idx) + 1);
  }
  return tokens;
}

std::unordered_map<std::string, float> read_llama2c_scores(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::unordered_map<std::string, float> scores;
  std::uint32_t max_length = 0;
  in.read(reinterpret_cast<char*>(&max_length), 4);
  float score = 0;
  std::int32_t length = 0;
  while (in.read(reinterpret_cast<char*>(&score), 4) &&
         in.read(reinterpret_cast<char*>(&length), 4)) {
    std::string text(static_cast<std::size_t>(length), '\0');
    in.read(text.data(), length);
    scores.try_emplace(text, score);
  }
  return scores;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path data =
      argc > 1 ? std::filesystem::path(argv[1])
               : std::filesystem::path(__FILE__).parent_path() / "../../../shared/data/tokenizers";
  std::printf("tokenizer throughput on %s\n", data.string().c_str());
  for (const std::string name : {"llama2", "phi-2"}) {
    auto texts = read_texts(data / "reference" / (name + ".jsonl"));
    texts.erase(texts.begin(), texts.begin() + 12);  // keep the prose, drop the edge cases
    std::size_t bytes = 0;
    for (const auto& t : texts) bytes += t.size();
    const auto tokenizer = qdgen::inference::load_tokenizer(data / name / "tokenizer.json");
    const auto encode = [&](const std::string& t) { return tokenizer->encode(t, false); };
    const auto [cold_s, tokens] = time_pass(texts, encode);
    double warm_s = 0;
    const int passes = 20;
    for (int i = 0; i < passes; ++i) warm_s += time_pass(texts, encode).first;
    warm_s /= passes;
    std::printf(
        "%-7s %zu texts, %zu bytes, %zu tokens: first pass %.0f tokens/s, "
        "cached %.0f tokens/s (%.1f MB/s), ratio cached/first %.2fx\n",
        name.c_str(), texts.size(), bytes, tokens, tokens / cold_s, tokens / warm_s,
        bytes / warm_s / 1e6, cold_s / warm_s);
  }
  auto texts = read_texts(data / "reference" / "llama2.jsonl");
  texts.erase(texts.begin(), texts.begin() + 12);
  const auto bin = qdgen::inference::load_tokenizer(data / "llama2c" / "tokenizer.bin");
  const auto scores = read_llama2c_scores(data / "llama2c" / "tokenizer.bin");
  const auto [ours_s, tokens] =
      time_pass(texts, [&](const std::string& t) { return bin->encode(t, true); });
  const auto [runc_s, runc_tokens] =
      time_pass(texts, [&](const std::string& t) { return run_c_encode(*bin, scores, t); });
  std::size_t mismatches = 0;
  for (const auto& t : texts) mismatches += bin->encode(t, true) != run_c_encode(*bin, scores, t);
  std::printf(
      "llama2.c tokenizer.bin: heap merge %.0f tokens/s, run.c scan %.0f tokens/s, "
      "ratio %.2fx, %zu of %zu texts differ\n",
      tokens / ours_s, runc_tokens / runc_s, runc_s / ours_s, mismatches, texts.size());
  return mismatches == 0 ? 0 : 1;
}
