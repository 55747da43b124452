// llama2.c's tokenizer.bin: run.c's known answers (llama2.c test.c) and a cross-check with
// the Hugging Face Llama 2 tokenizer on the same vocabulary.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qdgen/inference/tokenizer.hpp"

namespace {

using qdgen::inference::load_tokenizer;
using qdgen::inference::TokenId;
using Ids = std::vector<TokenId>;

const std::string kData = std::string(QDGEN_SHARED_DATA) + "/tokenizers/";

const qdgen::inference::Tokenizer& llama2c() {
  static const auto tokenizer = load_tokenizer(kData + "llama2c/tokenizer.bin");
  return *tokenizer;
}

TEST(Llama2cTokenizer, ReadsTheVocabulary) {
  EXPECT_EQ(llama2c().vocab_size(), 32000u);
  EXPECT_EQ(llama2c().bos_id(), 1);
  EXPECT_EQ(llama2c().eos_id(), 2);
  EXPECT_EQ(llama2c().token_to_id(" t"), 260);
  EXPECT_EQ(llama2c().id_to_token(3), "<0x00>");
}

TEST(Llama2cTokenizer, MatchesRunCKnownAnswers) {
  EXPECT_EQ(llama2c().encode("", true), Ids({1}));
  EXPECT_EQ(llama2c().encode("I believe the meaning of life is", true),
            Ids({1, 306, 4658, 278, 6593, 310, 2834, 338}));
  EXPECT_EQ(llama2c().encode("Simply put, the theory of relativity states that ", true),
            Ids({1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871}));
  EXPECT_EQ(llama2c().encode("A brief message congratulating the team on the launch:\n\n        Hi "
                             "everyone,\n\n        I just ",
                             true),
            Ids({1,     319, 11473, 2643, 378,  629,   271,   18099, 278, 3815, 373, 278, 6826,
                 29901, 13,  13,    4706, 6324, 14332, 29892, 13,    13,  4706, 306, 925, 29871}));
  EXPECT_EQ(llama2c().encode(
                "Translate English to French:\n\n        sea otter => loutre de mer\n        "
                "peppermint => menthe poivrée\n        plush girafe => girafe peluche\n  "
                "      cheese =>",
                true),
            Ids({1,    4103, 9632, 4223, 304,   5176,  29901, 13,   13,   4706, 7205, 4932, 357,
                 1149, 301,  449,  276,  316,   2778,  13,    4706, 1236, 407,  837,  524,  1149,
                 6042, 354,  772,  440,  29878, 1318,  13,    4706, 715,  1878, 330,  3055, 1725,
                 1149, 330,  3055, 1725, 4639,  28754, 13,    4706, 923,  968,  1149}));
}

TEST(Llama2cTokenizer, ByteFallbackForCharactersOutsideTheVocabulary) {
  // U+1F389 is not a piece: its four UTF-8 bytes become <0xF0> <0x9F> <0x8E> <0x89> (+3).
  const Ids ids = llama2c().encode("\xF0\x9F\x8E\x89", false);
  EXPECT_EQ(ids, Ids({29871, 0xF0 + 3, 0x9F + 3, 0x8E + 3, 0x89 + 3}));
  EXPECT_EQ(llama2c().decode(ids, true), " \xF0\x9F\x8E\x89");
}

TEST(Llama2cTokenizer, DecodeStripsTheSpaceAfterBos) {
  const Ids ids = llama2c().encode("Hello world", true);
  EXPECT_EQ(llama2c().decode(ids, true), "Hello world");
  EXPECT_EQ(llama2c().decode(Ids(ids.begin() + 1, ids.end()), true), " Hello world");
}

TEST(Llama2cTokenizer, InvalidUtf8IsByteFallbackNotACrash) {
  const Ids ids = llama2c().encode("a\xFF\x80z", false);
  EXPECT_EQ(llama2c().decode(ids, false), " a\xFF\x80z");
}

TEST(Llama2cTokenizer, AgreesWithHuggingFaceLlama2OnTheReferenceTexts) {
  // Same vocabulary, two algorithms (score-driven merging vs ranked merges): they agree on
  // ordinary text; count the lines where they do.
  const auto hf = load_tokenizer(kData + "llama2/tokenizer.json");
  std::ifstream in(kData + "reference/llama2.jsonl");
  std::string line;
  int same = 0;
  int total = 0;
  while (std::getline(in, line)) {
    const std::string text = nlohmann::json::parse(line)["text"];
    if (text.find('<') != std::string::npos) continue;  // special-token look-alikes differ
    ++total;
    same += llama2c().encode(text, true) == hf->encode(text, true);
  }
  EXPECT_GT(total, 300);
  EXPECT_EQ(same, total);
}

TEST(Llama2cTokenizer, TruncatedFileIsAClearError) {
  std::ifstream in(kData + "llama2c/tokenizer.bin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto path = std::filesystem::temp_directory_path() /
                    (std::string("qdgen_truncated_tokenizer.bin.") + std::to_string(::getpid()));
  std::ofstream(path, std::ios::binary).write(bytes.data(), 1000);
  try {
    load_tokenizer(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// Found by fuzz_tokenizer_bin: a token length near 2^31 in a 20-byte file allocated 2 GB
// before the truncation was noticed (tests/fuzz/regressions/fuzz_tokenizer_bin/ keeps the
// input; the fuzzer's allocation limit fails it). The length is checked against the file first.
TEST(Llama2cTokenizer, TokenLengthBeyondTheFileIsATruncationError) {
  std::string bytes;
  const auto append = [&](const auto value) {
    bytes.append(reinterpret_cast<const char*>(&value), sizeof(value));
  };
  append(std::uint32_t{0xffffff06});  // max_token_length
  append(0.0f);                       // token 0 score
  append(std::int32_t{0x7fffffff});   // token 0 length
  bytes.append("<unk>\0\0\0", 8);
  const auto path = std::filesystem::temp_directory_path() /
                    (std::string("qdgen_long_token_tokenizer.bin.") + std::to_string(::getpid()));
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  try {
    load_tokenizer(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() +
                                         ": llama2.c tokenizer truncated while reading token 0 "
                                         "bytes at byte 12 (file has 20 bytes)");
  }
  std::filesystem::remove(path);
}

}  // namespace
