// Byte-level BPE training: merges on a corpus small enough to follow by hand, determinism
// across thread counts, the saved files through load_tokenizer, decode(encode(x)) = x for
// random UTF-8, special tokens, and the errors for bad options.

#include "qdgen/inference/tokenizer_trainer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "qdgen/inference/tokenizer.hpp"
#include "random_text.hpp"
#include "scratch_directory.hpp"

namespace {

using qdgen::inference::BpeTrainingOptions;
using qdgen::inference::TokenId;
using qdgen::inference::train_bpe_tokenizer;
using qdgen::inference::TrainedBpeTokenizer;
using qdgen_test::ScratchDirectory;

std::vector<std::string> merge_texts(const TrainedBpeTokenizer& t) {
  std::vector<std::string> texts;
  for (const auto& [left, right] : t.merges)
    texts.push_back(t.tokens[left] + " " + t.tokens[right]);
  return texts;
}

TrainedBpeTokenizer train(const std::vector<std::string>& texts, BpeTrainingOptions options) {
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  return train_bpe_tokenizer(views, options);
}

// Sennrich et al.'s example: low x5, lower x2, newest x6, widest x3, one word a document
// (so no spaces). By hand, with ties to the smaller left id, then right id (bytes < merged):
//   e+s 9 (ties s+t 9), es+t 9, l+o 7 (ties o+w 7), lo+w 7, e+w 6 (ties n+e, w+est),
//   n+ew 6 (ties ew+est), new+est 6, d+est 3 (ties w+i, i+d), i+dest 3, w+idest 3,
//   e+r 2 (ties low+e), low+er 2; then every word is one token.
std::vector<std::string> sennrich_corpus() {
  std::vector<std::string> texts;
  for (const auto& [word, count] : std::vector<std::pair<std::string, int>>{
           {"low", 5}, {"lower", 2}, {"newest", 6}, {"widest", 3}}) {
    for (int i = 0; i < count; ++i) texts.push_back(word);
  }
  return texts;
}

const std::vector<std::string> kSennrichMerges = {"e s",    "es t",    "l o",     "lo w",
                                                  "e w",    "n ew",    "new est", "d est",
                                                  "i dest", "w idest", "e r",     "low er"};

TEST(TokenizerTrainer, MergesMatchTheHandComputedList) {
  BpeTrainingOptions options;
  options.vocab_size = 1000;
  const auto t = train(sennrich_corpus(), options);
  EXPECT_EQ(merge_texts(t), kSennrichMerges);
  ASSERT_EQ(t.tokens.size(), 1u + 256 + kSennrichMerges.size());
  EXPECT_EQ(t.tokens[0], "<|endoftext|>");
  EXPECT_EQ(t.tokens[1 + 'a'], "a");
  EXPECT_EQ(t.tokens[1 + ' '], "\xC4\xA0");  // GPT-2's map: the space is U+0120
  EXPECT_EQ(t.tokens.back(), "lower");
  EXPECT_EQ(t.special_count, 1u);
}

TEST(TokenizerTrainer, StopsAtTheVocabularySize) {
  BpeTrainingOptions options;
  options.vocab_size = 1 + 256 + 4;
  const auto t = train(sennrich_corpus(), options);
  EXPECT_EQ(merge_texts(t),
            std::vector<std::string>(kSennrichMerges.begin(), kSennrichMerges.begin() + 4));
}

TEST(TokenizerTrainer, StopsWhenNoPairIsFrequentEnough) {
  BpeTrainingOptions options;
  options.vocab_size = 1000;
  options.min_frequency = 3;
  const auto t = train(sennrich_corpus(), options);
  EXPECT_EQ(merge_texts(t),
            std::vector<std::string>(kSennrichMerges.begin(), kSennrichMerges.begin() + 10));
}

TEST(TokenizerTrainer, OverlappingPairsCountAndMergeLeftToRight) {
  // "aaaa" holds the pair a+a three times; merging makes aa aa, then aa+aa.
  BpeTrainingOptions options;
  options.vocab_size = 1000;
  options.special_tokens = {};
  const auto t = train({"aaaa", "aaaa"}, options);
  EXPECT_EQ(merge_texts(t), (std::vector<std::string>{"a a", "aa aa"}));
}

// A corpus of made-up words, digits, punctuation, whitespace runs and a few non-Latin words,
// large enough (~700 KB) that counting really uses several threads.
std::vector<std::string> synthetic_corpus(std::size_t documents) {
  std::mt19937 random(2024);
  const std::vector<std::string> syllables = {"ka", "lo", "mi", "ne", "su", "ter",  "qu",   "in",
                                              "th", "e",  "ar", "on", "é",  "über", "日本", "ж"};
  const std::vector<std::string> separators = {" ",  " ",   " ",  ", ", ". ", "\n",  "  ",
                                               "\t", "'s ", "! ", " (", ") ", "\n\n"};
  std::vector<std::string> texts;
  for (std::size_t d = 0; d < documents; ++d) {
    std::string text;
    const int words = 20 + static_cast<int>(random() % 40);
    for (int w = 0; w < words; ++w) {
      const int length = 1 + static_cast<int>(random() % 3);
      for (int s = 0; s < length; ++s) text += syllables[random() % syllables.size()];
      if (random() % 11 == 0) text += std::to_string(random() % 100000);
      text += separators[random() % separators.size()];
    }
    texts.push_back(std::move(text));
  }
  return texts;
}

TEST(TokenizerTrainer, SameFileBytesForAnyThreadCount) {
  const auto texts = synthetic_corpus(3000);
  BpeTrainingOptions options;
  options.vocab_size = 1500;
  options.threads = 1;
  const auto one = train(texts, options);
  const std::string json = one.tokenizer_json();
  ASSERT_EQ(one.tokens.size(), 1500u);
  for (const unsigned threads : {2u, 3u, 8u}) {
    options.threads = threads;
    const auto many = train(texts, options);
    EXPECT_EQ(many.tokenizer_json(), json) << threads << " threads";
    EXPECT_EQ(many.tokenizer_config_json(), one.tokenizer_config_json());
  }
}

class SavedTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    BpeTrainingOptions options;
    options.vocab_size = 2000;
    options.special_tokens = {"<|endoftext|>", "<|pad|>"};
    trained_ = train(synthetic_corpus(1500), options);
    path_ = dir_.path() / "tok" / "tokenizer.json";
    qdgen::inference::save_trained_tokenizer(trained_, path_, false);
    tokenizer_ = qdgen::inference::load_tokenizer(path_);
  }
  ScratchDirectory dir_;
  TrainedBpeTokenizer trained_;
  std::filesystem::path path_;
  std::unique_ptr<qdgen::inference::Tokenizer> tokenizer_;
};

TEST_F(SavedTokenizer, LoadsWithItsVocabularyAndSpecialTokens) {
  EXPECT_EQ(dir_.read(path_), trained_.tokenizer_json());
  EXPECT_EQ(dir_.read(path_.parent_path() / "tokenizer_config.json"),
            trained_.tokenizer_config_json());
  EXPECT_EQ(tokenizer_->vocab_size(), 2000u);
  EXPECT_EQ(tokenizer_->bos_id(), 0);
  EXPECT_EQ(tokenizer_->eos_id(), 0);
  EXPECT_EQ(tokenizer_->token_to_id("<|pad|>"), 1);
  for (TokenId id = 0; id < 2000; ++id) {
    EXPECT_EQ(tokenizer_->id_to_token(id), trained_.tokens[id]);
  }
  // Special tokens in text are cut out as their ids, as everywhere else.
  const auto ids = tokenizer_->encode("kalo<|endoftext|>mi<|pad|>", false);
  EXPECT_EQ(ids[ids.size() - 1], 1);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 0), ids.end());
  // Nothing else is left in the folder (the temporary files were renamed).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(path_.parent_path()),
                          std::filesystem::directory_iterator()),
            2);
}

TEST_F(SavedTokenizer, LearnedWordsAreSingleTokens) {
  // "kalo" is built only from merges the synthetic corpus makes frequent.
  EXPECT_EQ(tokenizer_->encode(" ka", false).size(), 1u);
  EXPECT_LT(tokenizer_->encode("kalomine kalo ter", false).size(), 10u);
}

TEST_F(SavedTokenizer, DecodeOfEncodeGivesTheTextBackForRandomUtf8) {
  std::mt19937 random(11);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = qdgen_test::random_utf8(random, 40, "<|endoftext|>");
    const auto ids = tokenizer_->encode(text, false);
    ASSERT_EQ(tokenizer_->decode(ids, false), text) << "text #" << i;
  }
}

TEST(TokenizerTrainer, SpecialTokensInTheCorpusAreNotLearnedFrom) {
  BpeTrainingOptions options;
  options.vocab_size = 400;
  const auto t = train({"<|endoftext|><|endoftext|><|endoftext|>xy<|endoftext|>xy"}, options);
  // Only x+y occurs twice once the special tokens are cut out.
  EXPECT_EQ(merge_texts(t), (std::vector<std::string>{"x y"}));
}

TEST(TokenizerTrainer, NoLearnedTokenReadsAsASpecialToken) {
  // The merge of U+0120 (space) and "a" would write "Ġa", a special token's text: it is
  // skipped, so that every text in the vocabulary has one id.
  BpeTrainingOptions options;
  options.vocab_size = 400;
  options.special_tokens = {
      "\xC4\xA0"
      "a"};
  const auto t = train({"b a a a a b"}, options);
  for (const auto& merge : merge_texts(t)) EXPECT_NE(merge, "\xC4\xA0 a");
  EXPECT_EQ(std::count(t.tokens.begin(), t.tokens.end(),
                       "\xC4\xA0"
                       "a"),
            1);
  ScratchDirectory dir;
  qdgen::inference::save_trained_tokenizer(t, dir.path() / "tokenizer.json", false);
  const auto loaded = qdgen::inference::load_tokenizer(dir.path() / "tokenizer.json");
  EXPECT_EQ(loaded->decode(loaded->encode(" a", false), false), " a");
}

TEST(TokenizerTrainer, BosAndEosCanBeOtherSpecialTokens) {
  BpeTrainingOptions options;
  options.vocab_size = 300;
  options.special_tokens = {"<s>", "</s>"};
  options.eos_token = "</s>";
  const auto t = train({"hello"}, options);
  EXPECT_EQ(t.bos_token, "<s>");
  EXPECT_EQ(t.eos_token, "</s>");
  options.special_tokens = {};
  options.eos_token = "";
  const auto none = train({"hello"}, options);
  EXPECT_NE(none.tokenizer_config_json().find("\"bos_token\": null"), std::string::npos);
}

std::string training_error(const std::vector<std::string>& texts, BpeTrainingOptions options) {
  try {
    train(texts, options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerTrainerErrors, VocabularySmallerThanBytesAndSpecials) {
  BpeTrainingOptions options;
  options.vocab_size = 256;
  EXPECT_EQ(training_error({"text"}, options),
            "vocabulary size 256 is smaller than the 256 byte tokens plus 1 special token (257)");
  options.special_tokens = {"<a>", "<b>"};
  options.vocab_size = 100;
  EXPECT_EQ(training_error({"text"}, options),
            "vocabulary size 100 is smaller than the 256 byte tokens plus 2 special tokens (258)");
}

TEST(TokenizerTrainerErrors, VocabularyLargerThanTokenIds) {
  BpeTrainingOptions options;
  options.vocab_size = std::size_t{1} << 31;
  EXPECT_EQ(training_error({"text"}, options),
            "vocabulary size 2147483648 does not fit 32-bit token ids");
}

TEST(TokenizerTrainerErrors, BadSpecialTokens) {
  BpeTrainingOptions options;
  options.special_tokens = {"<a>", "<a>"};
  EXPECT_EQ(training_error({"text"}, options), "special token '<a>' is given twice");
  options.special_tokens = {""};
  EXPECT_EQ(training_error({"text"}, options), "a special token is empty");
  options.special_tokens = {"a"};
  EXPECT_EQ(training_error({"text"}, options),
            "special token 'a' is the text of a byte token; choose a longer one, e.g. <|a|>");
  options.special_tokens = {"\xFF"};
  EXPECT_EQ(training_error({"text"}, options), "special token '\xEF\xBF\xBD' is not valid UTF-8");
}

TEST(TokenizerTrainerErrors, BosOrEosNotASpecialToken) {
  BpeTrainingOptions options;
  options.bos_token = "<s>";
  EXPECT_EQ(training_error({"text"}, options),
            "bos token '<s>' is not one of the special tokens ('<|endoftext|>')");
  options.bos_token = "";
  options.special_tokens = {};
  options.eos_token = "</s>";
  EXPECT_EQ(training_error({"text"}, options),
            "eos token '</s>' is not one of the special tokens (none)");
}

TEST(TokenizerTrainerErrors, MinFrequencyZero) {
  BpeTrainingOptions options;
  options.min_frequency = 0;
  EXPECT_EQ(training_error({"text"}, options), "min frequency must be at least 1, got 0");
}

TEST(TokenizerTrainerErrors, NoText) {
  EXPECT_EQ(training_error({"", ""}, BpeTrainingOptions{}),
            "no text to train on (every text is empty)");
  EXPECT_EQ(training_error({}, BpeTrainingOptions{}), "no text to train on (every text is empty)");
}

TEST(TokenizerTrainerErrors, SaveRefusesExistingFilesUnlessOverwrite) {
  ScratchDirectory dir;
  BpeTrainingOptions options;
  options.vocab_size = 300;
  const auto t = train({"hello hello"}, options);
  const auto path = dir.path() / "tokenizer.json";
  dir.write("tokenizer_config.json", "{}");
  try {
    qdgen::inference::save_trained_tokenizer(t, path, false);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "tokenizer_config.json").string() +
                                         ": already exists (pass --overwrite to replace it)");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  qdgen::inference::save_trained_tokenizer(t, path, true);
  EXPECT_EQ(dir.read(path), t.tokenizer_json());
  try {
    qdgen::inference::save_trained_tokenizer(t, path, false);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              path.string() + ": already exists (pass --overwrite to replace it)");
  }
  try {
    qdgen::inference::save_trained_tokenizer(t, dir.path() / "tokenizer_config.json", true);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "tokenizer_config.json").string() +
                                         ": is the name of the config written beside the "
                                         "tokenizer; choose another (e.g. tokenizer.json)");
  }
}

}  // namespace
