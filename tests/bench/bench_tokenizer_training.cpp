// Tokenizer training: `qdgen train tokenizer` against Debian's SentencePiece
// (`spm_train --model_type=bpe`, its defaults otherwise) on the fortunes corpus, in the same
// run: training time (best of REPEATS, wall clock, both with 2 threads) and bytes per token on
// a held-out 10 % of the documents (chosen by document id). Two measures:
//   same text: each held-out document with its whitespace runs made one space and trimmed,
//     as SentencePiece's default normalisation leaves it; both tokenizers encode these same
//     strings, and both can give them back;
//   raw: the held-out documents as they are (tabs, indentation, line breaks). qdgen encodes
//     every byte; SentencePiece reads a document as its lines joined by spaces and drops the
//     extra whitespace itself, so it spends no token on it (and cannot give it back).
// Usage: bench_tokenizer_training [VOCAB...] [--repeats N] [--threads N]
//   (default: 4096 8192, 3 repeats, 2 threads). Needs the Debian packages fortunes and
//   sentencepiece (bench only: apt-get install --no-install-recommends sentencepiece).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "qdgen/inference/corpus.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const fs::path kFortunes = "/usr/share/games/fortunes";

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

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Whitespace runs made one space, the ends trimmed: what SentencePiece's default
// normalisation (remove_extra_whitespaces) leaves of ASCII whitespace.
std::string collapse_whitespace(const std::string& text) {
  std::string out;
  bool pending_space = false;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Tokens spm_encode gives for a file of one text a line; exits when it fails or loses lines.
std::size_t spm_token_count(const std::string& model, const fs::path& input, std::size_t lines) {
  const auto encoded =
      qdgen_test::run_shell("spm_encode --model='" + model + "' --output_format=id < '" +
                            input.string() + "' 2>/dev/null");
  std::size_t tokens = 0;
  std::size_t seen = 0;
  for (const auto& line : lines_of(encoded.output)) {
    std::istringstream ids(line);
    for (std::string id; ids >> id;) ++tokens;
    ++seen;
  }
  if (encoded.status != 0 || seen != lines) {
    std::fprintf(stderr, "spm_encode failed or lost lines (%zu of %zu) on %s\n", seen, lines,
                 input.c_str());
    std::exit(1);
  }
  return tokens;
}

// Best wall-clock seconds of `repeats` runs of a shell command; exits on failure.
double time_command(const std::string& command, int repeats) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    const auto result = qdgen_test::run_shell(command);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (result.status != 0) {
      std::fprintf(stderr, "failed (%d): %s\n%s\n", result.status, command.c_str(),
                   result.output.c_str());
      std::exit(1);
    }
    best = std::min(best, seconds);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> vocabs;
  int repeats = 3;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeats" && i + 1 < argc) {
      repeats = std::stoi(argv[++i]);
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = std::stoi(argv[++i]);
    } else {
      vocabs.push_back(std::stoul(arg));
    }
  }
  if (vocabs.empty()) vocabs = {4096, 8192};
  if (!fs::exists(kFortunes)) {
    std::fprintf(stderr, "%s missing: apt-get install fortunes\n", kFortunes.c_str());
    return 1;
  }
  if (qdgen_test::run_shell("command -v spm_train spm_encode").status != 0) {
    std::fprintf(stderr,
                 "spm_train not found: apt-get install --no-install-recommends sentencepiece\n");
    return 1;
  }

  const auto files = fortune_files();
  const auto documents =
      qdgen::inference::read_corpus(files, qdgen::inference::CorpusFormat::kAuto);
  const fs::path dir =
      fs::temp_directory_path() / ("qdgen_bench_tokenizer_training." + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Ours reads the training documents as JSONL, SentencePiece their lines (it has no
  // documents); the held-out lines go to both.
  std::ofstream train_jsonl(dir / "train.jsonl");
  std::ofstream train_text(dir / "train.txt");
  std::vector<std::string> held_out;
  std::size_t train_bytes = 0;
  std::size_t train_documents = 0;
  std::size_t corpus_bytes = 0;
  for (const auto& document : documents) {
    corpus_bytes += document.text.size();
    if (qdgen::inference::is_held_out(document.id, 0.1)) {
      held_out.push_back(document.text);
      continue;
    }
    ++train_documents;
    train_bytes += document.text.size();
    train_jsonl << nlohmann::json{{"text", document.text}}.dump() << "\n";
    for (const auto& line : lines_of(document.text)) {
      if (!line.empty()) train_text << line << "\n";
    }
  }
  train_jsonl.close();
  train_text.close();
  std::vector<std::string> same_text;
  std::size_t raw_bytes = 0;
  std::size_t same_text_bytes = 0;
  {
    std::ofstream raw(dir / "held_out_raw.txt");
    std::ofstream same(dir / "held_out_same.txt");
    for (const auto& document : held_out) {
      std::string one_line = document;
      std::replace(one_line.begin(), one_line.end(), '\n', ' ');
      raw << one_line << "\n";
      raw_bytes += document.size();
      same_text.push_back(collapse_whitespace(document));
      same << same_text.back() << "\n";
      same_text_bytes += same_text.back().size();
    }
  }

  std::printf(
      "corpus: %zu fortune files, %zu documents, %zu bytes; training on %zu documents (%zu "
      "bytes), held out %zu documents (%zu bytes raw, %zu as the same text)\n",
      files.size(), documents.size(), corpus_bytes, train_documents, train_bytes, held_out.size(),
      raw_bytes, same_text_bytes);
  std::printf("%35s %-25s %s\n%-6s %9s %9s %7s %8s %7s %8s %8s %7s %8s\n", "",
              "bytes/token, same text", "bytes/token, raw", "vocab", "qdgen s", "spm s", "speed",
              "qdgen", "spm", "diff", "qdgen", "spm", "diff");
  const std::string quiet = " >/dev/null 2>&1";
  for (const std::size_t vocab : vocabs) {
    const fs::path ours = dir / ("qdgen-" + std::to_string(vocab)) / "tokenizer.json";
    const std::string train_ours = std::string(QDGEN_BINARY) + " train tokenizer --data '" +
                                   (dir / "train.jsonl").string() + "' --vocab " +
                                   std::to_string(vocab) + " --threads " + std::to_string(threads) +
                                   " --overwrite --out '" + ours.string() + "'";
    const fs::path spm_prefix = dir / ("spm-" + std::to_string(vocab));
    const std::string train_spm = "spm_train --input='" + (dir / "train.txt").string() +
                                  "' --model_prefix='" + spm_prefix.string() +
                                  "' --model_type=bpe --vocab_size=" + std::to_string(vocab) +
                                  " --num_threads=" + std::to_string(threads);
    const double ours_seconds = time_command(train_ours + quiet, repeats);
    const double spm_seconds = time_command(train_spm + quiet, repeats);

    const auto tokenizer = qdgen::inference::load_tokenizer(ours);
    std::size_t ours_raw = 0;
    std::size_t ours_same = 0;
    for (const auto& document : held_out) ours_raw += tokenizer->encode(document, false).size();
    for (const auto& text : same_text) ours_same += tokenizer->encode(text, false).size();
    const std::string model = spm_prefix.string() + ".model";
    const std::size_t spm_raw = spm_token_count(model, dir / "held_out_raw.txt", held_out.size());
    const std::size_t spm_same = spm_token_count(model, dir / "held_out_same.txt", held_out.size());
    const auto per_token = [](std::size_t bytes, std::size_t tokens) {
      return static_cast<double>(bytes) / static_cast<double>(tokens);
    };
    const double ours_same_bpt = per_token(same_text_bytes, ours_same);
    const double spm_same_bpt = per_token(same_text_bytes, spm_same);
    const double ours_raw_bpt = per_token(raw_bytes, ours_raw);
    const double spm_raw_bpt = per_token(raw_bytes, spm_raw);
    std::printf("%-6zu %9.3f %9.3f %6.1fx %8.4f %7.4f %+7.2f%% %8.4f %7.4f %+7.2f%%\n", vocab,
                ours_seconds, spm_seconds, spm_seconds / ours_seconds, ours_same_bpt, spm_same_bpt,
                100.0 * (ours_same_bpt / spm_same_bpt - 1.0), ours_raw_bpt, spm_raw_bpt,
                100.0 * (ours_raw_bpt / spm_raw_bpt - 1.0));
    std::printf("  qdgen: %s\n  spm:   %s\n", train_ours.c_str(), train_spm.c_str());
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}
