// The corpus reader: fortune files, plain text and JSONL, format detection, held-out split,
// and one-line errors naming the file.

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "qdgen/inference/corpus.hpp"
#include "scratch_directory.hpp"

namespace {

using qdgen::inference::CorpusDocument;
using qdgen::inference::CorpusFormat;
using qdgen::inference::read_corpus;
using qdgen_test::ScratchDirectory;

std::vector<CorpusDocument> read_one(const std::filesystem::path& file,
                                     CorpusFormat format = CorpusFormat::kAuto) {
  const std::vector<std::filesystem::path> files{file};
  return read_corpus(files, format);
}

std::vector<std::string> texts_of(const std::vector<CorpusDocument>& documents) {
  std::vector<std::string> texts;
  for (const auto& d : documents) texts.push_back(d.text);
  return texts;
}

std::string error_of(const std::filesystem::path& file, CorpusFormat format) {
  try {
    read_one(file, format);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CorpusReader, FortuneRecordsAreSplitOnPercentLines) {
  ScratchDirectory dir;
  const auto file = dir.write("science",
                              "First fortune,\n  two lines.\n%\n%\n\nSecond one\n\n%\n"
                              "Third, 100% sure\n%\r\nFourth with CRLF\r\n%\n");
  const auto documents = read_one(file, CorpusFormat::kFortune);
  EXPECT_EQ(texts_of(documents),
            (std::vector<std::string>{"First fortune,\n  two lines.", "Second one",
                                      "Third, 100% sure", "Fourth with CRLF"}));
  EXPECT_EQ(documents[0].line, 1u);
  EXPECT_EQ(documents[1].line, 6u);  // the blank line before it is not part of it
  EXPECT_EQ(documents[3].line, 11u);
  EXPECT_EQ(documents[2].file_index, 0u);
}

TEST(CorpusReader, TextDocumentsAreSplitOnBlankLines) {
  ScratchDirectory dir;
  const auto file = dir.write("book.txt", "Para one\nstill one.\n\n \t\nPara two\n\n\nThree");
  EXPECT_EQ(texts_of(read_one(file, CorpusFormat::kText)),
            (std::vector<std::string>{"Para one\nstill one.", "Para two", "Three"}));
}

TEST(CorpusReader, JsonlLinesGiveTheirText) {
  ScratchDirectory dir;
  const auto file = dir.write("c.jsonl",
                              "{\"text\": \"one\\n\\nstill one\", \"meta\": 3}\n\n"
                              "{\"text\": \"\"}\n{\"text\": \"two\"}\n");
  const auto documents = read_one(file, CorpusFormat::kJsonl);
  EXPECT_EQ(texts_of(documents), (std::vector<std::string>{"one\n\nstill one", "two"}));
  EXPECT_EQ(documents[1].line, 4u);
}

TEST(CorpusReader, AutoDetectsEachFile) {
  ScratchDirectory dir;
  const std::vector<std::filesystem::path> files{
      dir.write("a.jsonl", "{\"text\": \"from jsonl\"}\n"),
      dir.write("fortunes", "from fortune\n%\nsecond\n%\n"),
      dir.write("lines", "{\"text\": \"jsonl without the extension\"}\n"),
      dir.write("plain", "from text\n\n100% plain\n")};
  const auto documents = read_corpus(files, CorpusFormat::kAuto);
  EXPECT_EQ(texts_of(documents),
            (std::vector<std::string>{"from jsonl", "from fortune", "second",
                                      "jsonl without the extension", "from text", "100% plain"}));
  EXPECT_EQ(documents[2].file_index, 1u);
  EXPECT_EQ(documents[5].file_index, 3u);
}

TEST(CorpusReader, DocumentIdsDependOnTheTextOnly) {
  ScratchDirectory dir;
  const std::vector<std::filesystem::path> files{dir.write("a", "same\n%\nother\n%\n"),
                                                 dir.write("b", "x\n\nsame\n")};
  const auto documents = read_corpus(files, CorpusFormat::kAuto);
  ASSERT_EQ(documents.size(), 4u);
  EXPECT_EQ(documents[0].id, documents[3].id);
  EXPECT_NE(documents[0].id, documents[1].id);
}

TEST(CorpusReader, HeldOutShareIsNearTheFractionAndStable) {
  std::mt19937_64 random(7);
  int held = 0;
  constexpr int kDocuments = 20000;
  for (int i = 0; i < kDocuments; ++i) {
    const std::uint64_t id = random();
    held += qdgen::inference::is_held_out(id, 0.1);
    EXPECT_EQ(qdgen::inference::is_held_out(id, 0.1), qdgen::inference::is_held_out(id, 0.1));
    EXPECT_FALSE(qdgen::inference::is_held_out(id, 0.0));
    EXPECT_TRUE(qdgen::inference::is_held_out(id, 1.0));
  }
  EXPECT_NEAR(held, kDocuments / 10, 300);  // ~7 standard deviations
  // Sequential ids (e.g. similar texts' hashes) are spread too.
  held = 0;
  for (std::uint64_t id = 0; id < kDocuments; ++id) held += qdgen::inference::is_held_out(id, 0.1);
  EXPECT_NEAR(held, kDocuments / 10, 300);
}

TEST(CorpusReaderErrors, MissingFileIsNamed) {
  ScratchDirectory dir;
  const auto file = dir.path() / "nope.txt";
  EXPECT_EQ(error_of(file, CorpusFormat::kAuto),
            file.string() + ": cannot open: No such file or directory");
}

TEST(CorpusReaderErrors, FolderIsNamed) {
  ScratchDirectory dir;
  EXPECT_EQ(error_of(dir.path(), CorpusFormat::kAuto),
            dir.path().string() + ": is a folder (expected a corpus file)");
}

TEST(CorpusReaderErrors, EmptyFileIsNamed) {
  ScratchDirectory dir;
  const auto file = dir.write("empty", "");
  EXPECT_EQ(error_of(file, CorpusFormat::kFortune),
            file.string() + ": empty file (expected fortune documents)");
}

TEST(CorpusReaderErrors, FileWithoutDocumentsIsNamed) {
  ScratchDirectory dir;
  const auto file = dir.write("blank", "%\n  \n%\n\n");
  EXPECT_EQ(
      error_of(file, CorpusFormat::kAuto),
      file.string() + ": no documents in it (read as fortune; every record or line is blank)");
}

TEST(CorpusReaderErrors, JsonlLineThatIsNotAnObject) {
  ScratchDirectory dir;
  const auto file = dir.write("bad.jsonl", "{\"text\": \"ok\"}\n[1, 2]\n");
  EXPECT_EQ(error_of(file, CorpusFormat::kAuto),
            file.string() + " line 2: not a JSON object (expected {\"text\": ...})");
}

TEST(CorpusReaderErrors, JsonlLineWithoutText) {
  ScratchDirectory dir;
  const auto file = dir.write("bad.jsonl", "{\"txt\": \"typo\"}\n");
  EXPECT_EQ(error_of(file, CorpusFormat::kJsonl),
            file.string() + " line 1: JSON line without a string \"text\" key");
}

TEST(CorpusReaderErrors, UnknownFormatName) {
  try {
    qdgen::inference::parse_corpus_format("csv");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "unknown corpus format 'csv' (expected auto, fortune, text or jsonl)");
  }
}

TEST(CorpusReaderErrors, NoFiles) {
  EXPECT_THROW(read_corpus({}, CorpusFormat::kAuto), std::runtime_error);
}

}  // namespace
