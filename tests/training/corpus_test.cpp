// The corpus side of training: documents from fortune files, plain text and JSONL; the
// seeded held-out split; packing with end-of-text tokens; the batch order and its state.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "batch_order.hpp"
#include "document_reader.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "training_corpus.hpp"
#include "training_fixtures.hpp"

namespace qdgen::inference::training {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

TEST(TrainingDocuments, FortuneRecordsPlainParagraphsAndJsonl) {
  testing::ScratchFolder scratch("documents");
  const auto fortunes =
      testing::write_text(scratch / "fortunes", "First one.\n\tSecond line.\n%\n%\n\nSecond.\n%\n");
  const auto text = testing::write_text(scratch / "notes.txt",
                                        "Para one\nstill one.\n\n\n  \nPara two.\r\n\r\nthree\n");
  const auto jsonl = testing::write_text(scratch / "lines.jsonl",
                                         "{\"text\": \"a\\nb\"}\n\n{\"text\": \"c\", \"id\": 2}\n");
  EXPECT_EQ(read_training_documents({fortunes}),
            (Strings{"First one.\n\tSecond line.", "Second."}));
  EXPECT_EQ(read_training_documents({text}),
            (Strings{"Para one\nstill one.", "Para two.", "three"}));
  EXPECT_EQ(read_training_documents({jsonl, fortunes}),
            (Strings{"a\nb", "c", "First one.\n\tSecond line.", "Second."}));
}

TEST(TrainingDocuments, AFolderIsItsFilesInNameOrderWithoutIndexesOrRepeatedLinks) {
  testing::ScratchFolder scratch("folder");
  testing::write_text(scratch / "corpus/b", "B1\n%\nB2\n%\n");
  testing::write_text(scratch / "corpus/a", "A1\n%\n");
  testing::write_text(scratch / "corpus/a.dat", "\x01\x02 binary index");
  fs::create_symlink(scratch / "corpus/a", scratch / "corpus/a.u8");
  EXPECT_EQ(read_training_documents({scratch / "corpus"}), (Strings{"A1", "B1", "B2"}));
}

TEST(TrainingDocuments, ErrorsNameTheFileAndLine) {
  testing::ScratchFolder scratch("document_errors");
  const auto bad =
      testing::write_text(scratch / "bad.jsonl", "{\"text\": \"ok\"}\n{\"body\": 1}\n");
  try {
    read_training_documents({bad});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              bad.string() + ":2: expected an object with a string \"text\"");
  }
  try {
    read_training_documents({scratch / "absent"});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), (scratch / "absent").string() + ": no such file or folder");
  }
}

class TrainingCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokenizer_ = load_tokenizer(testing::write_byte_tokenizer(scratch_.path()));
    for (int i = 0; i < 20; ++i) documents_.push_back("document " + std::to_string(i));
  }
  testing::ScratchFolder scratch_{"corpus"};
  std::unique_ptr<Tokenizer> tokenizer_;
  Strings documents_;
};

TEST_F(TrainingCorpusTest, HeldOutDocumentsAreASeededChoiceAndEveryDocumentEndsInEndOfText) {
  const TrainingCorpus a(documents_, *tokenizer_, 256, {8, 0.2, 1}, "test");
  const TrainingCorpus b(documents_, *tokenizer_, 256, {8, 0.2, 1}, "test");
  const TrainingCorpus c(documents_, *tokenizer_, 256, {8, 0.2, 2}, "test");
  EXPECT_EQ(a.heldout_documents(), 4);
  EXPECT_EQ(a.train_documents(), 16);
  EXPECT_EQ(a.heldout_tokens(), b.heldout_tokens());
  EXPECT_NE(a.heldout_tokens(), c.heldout_tokens());
  const auto count = [](const std::vector<TokenId>& tokens) {
    return std::count(tokens.begin(), tokens.end(), 256);
  };
  EXPECT_EQ(count(a.train_tokens()), 16);
  EXPECT_EQ(count(a.heldout_tokens()), 4);
  EXPECT_EQ(a.train_tokens().back(), 256);
  // Together the two sides hold every document's bytes once.
  EXPECT_EQ(a.train_tokens().size() + a.heldout_tokens().size(),
            std::accumulate(documents_.begin(), documents_.end(), std::size_t{0},
                            [](std::size_t n, const std::string& d) { return n + d.size() + 1; }));
  EXPECT_EQ(a.train_windows(), (static_cast<std::int64_t>(a.train_tokens().size()) - 1) / 8);
  const auto windows = a.heldout_windows(100);
  ASSERT_FALSE(windows.empty());
  EXPECT_EQ(windows.front(), std::make_pair(std::int64_t{0}, std::int64_t{9}));
  EXPECT_EQ(windows.back().second, static_cast<std::int64_t>(a.heldout_tokens().size()));
}

TEST_F(TrainingCorpusTest, NoDocumentsAndTooFewTokensAreErrors) {
  try {
    TrainingCorpus({}, *tokenizer_, 256, {8, 0, 0}, "f.txt");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "f.txt: no documents (expected fortune records separated by '%' lines, paragraphs "
              "of text, or JSONL lines with \"text\")");
  }
  try {
    TrainingCorpus({"tiny"}, *tokenizer_, 256, {8, 0, 0}, "f.txt");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "f.txt: the corpus is smaller than one context: 5 training tokens (1 documents), a "
              "context needs 9 (give more data or a smaller --context)");
  }
}

TEST(TrainingBatchOrder, EachEpochIsAPermutationAndARestoredOrderGoesOnIdentically) {
  BatchOrder order(10, 7);
  std::vector<std::int64_t> first_epoch;
  for (int i = 0; i < 5; ++i) {
    for (std::int64_t w : order.next_batch(2)) first_epoch.push_back(w);
  }
  EXPECT_EQ(std::set<std::int64_t>(first_epoch.begin(), first_epoch.end()).size(), 10u);
  order.next_batch(3);  // into the second epoch
  const std::string state = order.state();
  const auto expected = order.next_batch(12);  // across the third epoch's start
  BatchOrder restored(10, 999);
  restored.restore(state);
  EXPECT_EQ(restored.next_batch(12), expected);
  BatchOrder other_corpus(11, 7);
  EXPECT_THROW(other_corpus.restore(state), std::runtime_error);
}

}  // namespace
}  // namespace qdgen::inference::training
