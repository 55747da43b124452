// The corpus side of training: documents from fortune files, plain text and JSONL; the
// held-out split by document id; packing with end-of-text tokens; the batch order and its state.
#include "qdgen/inference/corpus.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "batch_order.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "training_corpus.hpp"
#include "training_fixtures.hpp"

namespace qdgen::inference::training {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

// Training reads its corpus with the shared reader (corpus.hpp); what it adds is folders.
Strings texts(const std::vector<fs::path>& inputs) {
  Strings out;
  for (const auto& d : read_corpus(expand_corpus_inputs(inputs), CorpusFormat::kAuto)) {
    out.push_back(d.text);
  }
  return out;
}

TEST(TrainingDocuments, FortuneRecordsPlainParagraphsAndJsonl) {
  testing::ScratchFolder scratch("documents");
  const auto fortunes =
      testing::write_text(scratch / "fortunes", "First one.\n\tSecond line.\n%\n%\n\nSecond.\n%\n");
  const auto text = testing::write_text(scratch / "notes.txt",
                                        "Para one\nstill one.\n\n\n  \nPara two.\r\n\r\nthree\n");
  const auto jsonl = testing::write_text(scratch / "lines.jsonl",
                                         "{\"text\": \"a\\nb\"}\n\n{\"text\": \"c\", \"id\": 2}\n");
  EXPECT_EQ(texts({fortunes}), (Strings{"First one.\n\tSecond line.", "Second."}));
  EXPECT_EQ(texts({text}), (Strings{"Para one\nstill one.", "Para two.", "three"}));
  EXPECT_EQ(texts({jsonl, fortunes}),
            (Strings{"a\nb", "c", "First one.\n\tSecond line.", "Second."}));
}

TEST(TrainingDocuments, AFolderIsItsFilesInNameOrderWithoutIndexesOrRepeatedLinks) {
  testing::ScratchFolder scratch("folder");
  testing::write_text(scratch / "corpus/b", "B1\n%\nB2\n%\n");
  testing::write_text(scratch / "corpus/a", "A1\n%\n");
  testing::write_text(scratch / "corpus/a.dat", "\x01\x02 binary index");
  fs::create_symlink(scratch / "corpus/a", scratch / "corpus/a.u8");
  EXPECT_EQ(texts({scratch / "corpus"}), (Strings{"A1", "B1", "B2"}));
}

TEST(TrainingDocuments, ErrorsNameTheFileAndLine) {
  testing::ScratchFolder scratch("document_errors");
  const auto bad =
      testing::write_text(scratch / "bad.jsonl", "{\"text\": \"ok\"}\n{\"body\": 1}\n");
  try {
    texts({bad});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              bad.string() + " line 2: JSON line without a string \"text\" key");
  }
  try {
    texts({scratch / "absent"});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), (scratch / "absent").string() + ": no such file or folder");
  }
}

std::vector<CorpusDocument> documents_of(const Strings& texts) {
  std::vector<CorpusDocument> out;
  for (const std::string& text : texts) {
    std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a, as the corpus reader's ids
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ull;
    }
    out.push_back({text, 0, 1, hash});
  }
  return out;
}

class TrainingCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokenizer_ = load_tokenizer(testing::write_byte_tokenizer(scratch_.path()));
    for (int i = 0; i < 40; ++i) texts_.push_back("document " + std::to_string(i));
    documents_ = documents_of(texts_);
  }
  testing::ScratchFolder scratch_{"corpus"};
  std::unique_ptr<Tokenizer> tokenizer_;
  Strings texts_;
  std::vector<CorpusDocument> documents_;
};

// The token streams' documents, in order (end-of-text, 256, ends each).
Strings documents_in(const std::vector<TokenId>& tokens) {
  Strings out(1);
  for (TokenId t : tokens) {
    if (t == 256) {
      out.emplace_back();
    } else {
      out.back() += static_cast<char>(t);
    }
  }
  out.pop_back();
  return out;
}

TEST_F(TrainingCorpusTest, HeldOutDocumentsAreChosenByIdAndEveryDocumentEndsInEndOfText) {
  const TrainingCorpus a(documents_, *tokenizer_, 256, {8, 0.2}, "test");
  Strings expected_heldout, expected_train;
  for (const auto& d : documents_) {
    (is_held_out(d.id, 0.2) ? expected_heldout : expected_train).push_back(d.text);
  }
  ASSERT_FALSE(expected_heldout.empty());  // 40 documents at 0.2: some on each side
  ASSERT_FALSE(expected_train.empty());
  EXPECT_EQ(documents_in(a.heldout_tokens()), expected_heldout);
  EXPECT_EQ(documents_in(a.train_tokens()), expected_train);
  EXPECT_EQ(a.heldout_documents(), static_cast<std::int64_t>(expected_heldout.size()));
  EXPECT_EQ(a.train_documents(), static_cast<std::int64_t>(expected_train.size()));
  EXPECT_EQ(a.train_tokens().back(), 256);
  // A part of the corpus (a category file of the whole) holds out the same documents.
  const std::vector<CorpusDocument> part(documents_.begin() + 10, documents_.begin() + 30);
  const TrainingCorpus b(part, *tokenizer_, 256, {8, 0.2}, "test");
  Strings part_heldout;
  for (const auto& d : part) {
    if (is_held_out(d.id, 0.2)) part_heldout.push_back(d.text);
  }
  if (!part_heldout.empty()) {
    EXPECT_EQ(documents_in(b.heldout_tokens()), part_heldout);
  }
  // Together the two sides hold every document's bytes once.
  EXPECT_EQ(a.train_tokens().size() + a.heldout_tokens().size(),
            std::accumulate(texts_.begin(), texts_.end(), std::size_t{0},
                            [](std::size_t n, const std::string& d) { return n + d.size() + 1; }));
  EXPECT_EQ(a.train_windows(), (static_cast<std::int64_t>(a.train_tokens().size()) - 1) / 8);
  const auto windows = a.heldout_windows(100);
  ASSERT_FALSE(windows.empty());
  EXPECT_EQ(windows.front(), std::make_pair(std::int64_t{0}, std::int64_t{9}));
  EXPECT_EQ(windows.back().second, static_cast<std::int64_t>(a.heldout_tokens().size()));
}

TEST_F(TrainingCorpusTest, TwoDocumentsAlwaysKeepOneOnEachSide) {
  const auto two = documents_of({"first document", "second document"});
  for (double fraction : {1e-9, 0.999999}) {
    const TrainingCorpus c(two, *tokenizer_, 256, {4, fraction}, "test");
    EXPECT_EQ(c.heldout_documents(), 1) << fraction;
    EXPECT_EQ(c.train_documents(), 1) << fraction;
  }
}

TEST_F(TrainingCorpusTest, NoDocumentsAndTooFewTokensAreErrors) {
  try {
    TrainingCorpus({}, *tokenizer_, 256, {8, 0}, "f.txt");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "f.txt: no documents (expected fortune records separated by '%' lines, paragraphs "
              "of text, or JSONL lines with \"text\")");
  }
  try {
    TrainingCorpus(documents_of({"tiny"}), *tokenizer_, 256, {8, 0}, "f.txt");
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
