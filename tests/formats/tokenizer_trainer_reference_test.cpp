// A tokenizer trained on Debian's fortunes encodes exactly as the Hugging Face reference
// (@huggingface/tokenizers on Node.js) does: the same ids, id for id, from `qdgen tokenize`
// and from the reference, over a few hundred fortunes, hand-picked edge cases and random
// UTF-8; and the reference decodes its ids back to the text.
// Needs node and npm (skipped with the reason when absent); installs the npm package into
// the build folder through scripts/npm-test-packages (idempotent).

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "qdgen/inference/corpus.hpp"
#include "random_text.hpp"
#include "run_process.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using qdgen_test::run_shell;

const fs::path kFortunes = "/usr/share/games/fortunes";

// Built up in steps: GCC 12 warns (-Wrestrict, falsely) on "'" + string + "'" here at -O3.
std::string quote(const fs::path& path) {
  std::string quoted;
  quoted.reserve(path.native().size() + 2);
  quoted.push_back('\'');
  quoted.append(path.native());
  quoted.push_back('\'');
  return quoted;
}

// The fortune files without their .dat indexes and .u8 links.
std::vector<fs::path> fortune_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kFortunes)) {
    const auto extension = entry.path().extension();
    if (entry.is_regular_file() && !entry.is_symlink() && extension != ".dat" &&
        extension != ".u8") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<json> read_json_lines(const std::string& text) {
  std::vector<json> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(json::parse(line));
  }
  return rows;
}

TEST(TokenizerTrainerReference, SameIdsAsHuggingFaceOnFortunes) {
  if (run_shell("command -v node && command -v npm").status != 0) {
    GTEST_SKIP() << "node or npm not found: the comparison with the Hugging Face reference "
                    "(@huggingface/tokenizers on Node.js) needs both";
  }
  const fs::path prefix = QDGEN_NPM_PREFIX;
  const auto install =
      run_shell(std::string(QDGEN_SOURCE_DIR) + "/scripts/npm-test-packages " + quote(prefix));
  ASSERT_EQ(install.status, 0) << install.output;
  ASSERT_TRUE(fs::exists(kFortunes))
      << kFortunes << " is missing: install the Debian package fortunes (scripts/setup does)";

  qdgen_test::ScratchDirectory dir;
  const auto files = fortune_files();
  ASSERT_GT(files.size(), 20u);
  std::string data;
  for (const auto& file : files) {
    data += ' ';
    data += quote(file);
  }
  const auto tokenizer = dir.path() / "tokenizer.json";
  const auto trained = qdgen_test::qdgen("train tokenizer --data" + data + " --vocab 4096 --out " +
                                         quote(tokenizer));
  ASSERT_EQ(trained.status, 0) << trained.output;

  // Every 50th fortune (~300), edge cases, and random UTF-8.
  std::vector<std::string> texts;
  const auto documents =
      qdgen::inference::read_corpus(files, qdgen::inference::CorpusFormat::kAuto);
  for (std::size_t i = 0; i < documents.size(); i += 50) texts.push_back(documents[i].text);
  for (const char* edge :
       {"", " ", "\n", "\n\n\t\t-- Mark Twain", "I'm sure it's 12345678 dollars.",
        "THEY'LL SHE'S ſ's 'LL 'Re it'ſ x'ſt y'\u212A", "  multiple   spaces  ",
        "tab\tand\r\nCRLF\r\n",
        "Ünïcödé café naïve — “quotes” 日本語のテキスト 🎉🎉👍🏽",
        "<|endoftext|>a<|endoftext|>", "x<|endoftext|> <|endoftext|>\n",
        "\u0085x\uFEFFy\u00A0z\u2028w\u3000v", "١٢٣ ௧௨ ½ ²", "don't DON'T o'clock rock'n'roll",
        "!!! ??? ... --- ***", "a\n\n\n   \n b", "\t\t-- Author, 1971.  Then:  \t(x)  \n  y",
        "end.  \t\n\u3000z"}) {
    texts.emplace_back(edge);
  }
  std::mt19937 random(5);
  for (int i = 0; i < 200; ++i)
    texts.push_back(qdgen_test::random_utf8(random, 30, "<|endoftext|>"));
  std::string input;
  for (const auto& text : texts) input += json{{"text", text}}.dump() + "\n";
  const auto input_path = dir.write("input.jsonl", input);

  const auto ours = qdgen_test::qdgen("tokenize --tokenizer " + quote(tokenizer) +
                                      " --input-format jsonl --format json " + quote(input_path) +
                                      " 2>/dev/null");
  ASSERT_EQ(ours.status, 0) << ours.output;
  const auto reference = run_shell(
      "node " + quote(fs::path(QDGEN_SOURCE_DIR) / "tests/formats/hf_reference/encode.mjs") + " " +
      quote(prefix) + " " + quote(tokenizer) + " " + quote(input_path) + " 2>/dev/null");
  ASSERT_EQ(reference.status, 0) << reference.output;
  const auto our_rows = read_json_lines(ours.output);
  const auto reference_rows = read_json_lines(reference.output);
  ASSERT_EQ(our_rows.size(), texts.size());
  ASSERT_EQ(reference_rows.size(), texts.size());

  int wrong_ids = 0;
  int wrong_decoding = 0;
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto& expected = reference_rows[i]["ids"];
    tokens += expected.size();
    if (our_rows[i]["ids"] != expected && ++wrong_ids <= 5) {
      ADD_FAILURE() << "ids differ for " << json(texts[i]).dump()
                    << "\n ours:      " << our_rows[i]["ids"].dump()
                    << "\n reference: " << expected.dump();
    }
    if (reference_rows[i]["decoded"] != texts[i] && ++wrong_decoding <= 5) {
      ADD_FAILURE() << "the reference decodes " << json(texts[i]).dump() << " as "
                    << reference_rows[i]["decoded"].dump();
    }
  }
  EXPECT_EQ(wrong_ids, 0);
  EXPECT_EQ(wrong_decoding, 0);
  EXPECT_GT(tokens, 10000u);  // the comparison really covered text
}

}  // namespace
