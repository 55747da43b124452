// Tokenizer training: `qdgen train tokenizer` against Debian's SentencePiece
// (`spm_train --model_type=bpe`) on the fortunes corpus, in the same run: training time (best
// of REPEATS, wall clock, both with 2 threads) and bytes per token on a held-out 10 % of the
// documents (chosen by document id), each tokenizer encoding the same held-out lines.
// Usage: bench_tokenizer_training [VOCAB...] [--repeats N] [--threads N]
//   (default: 4096 8192, 3 repeats, 2 threads). Needs the Debian packages fortunes and
//   sentencepiece (bench only: apt-get install --no-install-recommends sentencepiece).

#include <unistd.h>

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
  std::vector<std::string> held_out_lines;
  std::size_t train_bytes = 0;
  std::size_t train_documents = 0;
  std::size_t corpus_bytes = 0;
  for (const auto& document : documents) {
    corpus_bytes += document.text.size();
    if (qdgen::inference::is_held_out(document.id, 0.1)) {
      for (auto& line : lines_of(document.text)) {
        if (!line.empty()) held_out_lines.push_back(std::move(line));
      }
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
  {
    std::ofstream held_out(dir / "held_out.txt");
    for (const auto& line : held_out_lines) held_out << line << "\n";
  }
  std::size_t held_out_bytes = 0;
  for (const auto& line : held_out_lines) held_out_bytes += line.size();

  std::printf(
      "corpus: %zu fortune files, %zu documents, %zu bytes; training on %zu documents "
      "(%zu bytes), held out %zu lines (%zu bytes)\n",
      files.size(), documents.size(), corpus_bytes, train_documents, train_bytes,
      held_out_lines.size(), held_out_bytes);
  std::printf("%-6s %10s %10s %8s %12s %12s %9s\n", "vocab", "qdgen s", "spm s", "speed",
              "qdgen B/tok", "spm B/tok", "B/tok");
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
    std::size_t ours_tokens = 0;
    for (const auto& line : held_out_lines) ours_tokens += tokenizer->encode(line, false).size();
    const auto encoded = qdgen_test::run_shell("spm_encode --model='" + spm_prefix.string() +
                                               ".model' --output_format=id < '" +
                                               (dir / "held_out.txt").string() + "' 2>/dev/null");
    std::size_t spm_tokens = 0;
    std::size_t spm_lines = 0;
    for (const auto& line : lines_of(encoded.output)) {
      std::istringstream ids(line);
      for (std::string id; ids >> id;) ++spm_tokens;
      ++spm_lines;
    }
    if (encoded.status != 0 || spm_lines != held_out_lines.size()) {
      std::fprintf(stderr, "spm_encode failed or lost lines (%zu of %zu)\n", spm_lines,
                   held_out_lines.size());
      return 1;
    }
    const double ours_bpt = static_cast<double>(held_out_bytes) / ours_tokens;
    const double spm_bpt = static_cast<double>(held_out_bytes) / spm_tokens;
    std::printf("%-6zu %10.3f %10.3f %7.1fx %12.4f %12.4f %+8.2f%%\n", vocab, ours_seconds,
                spm_seconds, spm_seconds / ours_seconds, ours_bpt, spm_bpt,
                100.0 * (ours_bpt / spm_bpt - 1.0));
    std::printf("  qdgen: %s\n  spm:   %s\n", train_ours.c_str(), train_spm.c_str());
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}
