// Every line of the Hugging Face reference files: the same ids and the same decoded text.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qdgen/inference/tokenizer.hpp"

namespace {

using qdgen::inference::load_tokenizer;
using qdgen::inference::TokenId;

const std::string kData = std::string(QDGEN_SHARED_DATA) + "/tokenizers/";

void check_reference(const std::string& tokenizer_name) {
  const auto tokenizer = load_tokenizer(kData + tokenizer_name + "/tokenizer.json");
  std::ifstream in(kData + "reference/" + tokenizer_name + ".jsonl");
  ASSERT_TRUE(in) << "reference file missing";
  std::string line;
  int lines = 0;
  int wrong_ids = 0;
  int wrong_text = 0;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line);
    const std::string text = row["text"];
    const auto expected = row["ids"].get<std::vector<TokenId>>();
    const auto ids = tokenizer->encode(text, false);
    if (ids != expected && ++wrong_ids <= 5) ADD_FAILURE() << "ids differ for: " << text;
    const std::string decoded = tokenizer->decode(expected, false);
    if (decoded != row["decoded"].get<std::string>() && ++wrong_text <= 5) {
      ADD_FAILURE() << "decoded text differs for: " << text << "\n got: " << decoded;
    }
    ++lines;
  }
  EXPECT_EQ(lines, 312);
  EXPECT_EQ(wrong_ids, 0);
  EXPECT_EQ(wrong_text, 0);
}

TEST(TokenizerReference, Llama2EveryLineMatches) {
  check_reference("llama2");
}
TEST(TokenizerReference, Phi2EveryLineMatches) {
  check_reference("phi-2");
}

}  // namespace
