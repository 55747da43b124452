// qdgen train tokenizer: byte-level BPE from fortune, text or JSONL files, written as a
// Hugging Face tokenizer.json (+ tokenizer_config.json).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "qdgen/inference/corpus.hpp"
#include "qdgen/inference/tokenizer_trainer.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/io/utf8.hpp"

namespace qdgen::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct TrainTokenizerOptions {
  std::vector<std::string> data;
  std::size_t vocab = 0;
  std::string out;
  std::vector<std::string> special_tokens{"<|endoftext|>"};
  std::uint64_t min_frequency = 2;
  std::string format = "auto";
  std::string bos_token;
  std::string eos_token;
  unsigned threads = 0;
  bool overwrite = false;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// On a terminal one line redrawn at most ten times a second; elsewhere (logs) a line when
// counting ends and none per merge.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(Clock::time_point start)
      : start_(start), terminal_(isatty(STDERR_FILENO) == 1) {}

  void operator()(const inference::BpeTrainingProgress& p) {
    using Phase = inference::BpeTrainingProgress::Phase;
    if (p.phase == Phase::kCounted) {
      std::cerr << "counted " << p.words << " words (" << p.distinct_words << " distinct) in "
                << format_seconds(seconds_since(start_)) << "\n";
      return;
    }
    if (!terminal_) return;
    const auto now = Clock::now();
    if (p.phase == Phase::kMerging && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    std::cerr << "\r\033[Kmerges " << p.merges << "/" << p.merges_wanted << "  "
              << format_seconds(seconds_since(start_));
    if (p.phase == Phase::kDone) std::cerr << "\r\033[K";
    std::cerr << std::flush;
  }

  static std::string format_seconds(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f s", seconds);
    return text;
  }

 private:
  Clock::time_point start_;
  Clock::time_point last_{};
  bool terminal_;
};

void run_train_tokenizer(const TrainTokenizerOptions& options) {
  const auto start = Clock::now();
  inference::check_tokenizer_output(options.out, options.overwrite);
  // --overwrite replaces the outputs: never a corpus file.
  const std::filesystem::path out(options.out);
  for (const std::string& file : options.data) {
    io::refuse_output_over_input(out, file);
    io::refuse_output_over_input(out.parent_path() / "tokenizer_config.json", file);
  }
  const std::vector<std::filesystem::path> files(options.data.begin(), options.data.end());
  const auto documents =
      inference::read_corpus(files, inference::parse_corpus_format(options.format));
  std::vector<std::string_view> texts;
  std::size_t bytes = 0;
  texts.reserve(documents.size());
  for (const auto& document : documents) {
    texts.push_back(document.text);
    bytes += document.text.size();
  }

  inference::BpeTrainingOptions training;
  training.vocab_size = options.vocab;
  training.special_tokens = options.special_tokens;
  training.min_frequency = options.min_frequency;
  training.bos_token = options.bos_token;
  training.eos_token = options.eos_token;
  training.threads = options.threads;
  ProgressPrinter printer(start);
  training.progress = [&printer](const inference::BpeTrainingProgress& p) { printer(p); };
  const auto tokenizer = inference::train_bpe_tokenizer(texts, training);
  inference::save_trained_tokenizer(tokenizer, options.out, options.overwrite);

  const std::size_t merged_tokens = tokenizer.tokens.size() - tokenizer.special_count - 256;
  std::cerr << "wrote " << io::valid_utf8(options.out) << ": " << tokenizer.tokens.size()
            << " tokens (" << tokenizer.special_count << " special, 256 bytes, " << merged_tokens
            << " merged) from " << documents.size() << " documents (" << bytes << " bytes) in "
            << ProgressPrinter::format_seconds(seconds_since(start)) << "\n";
  if (tokenizer.tokens.size() < options.vocab) {
    std::cerr << "note: " << tokenizer.tokens.size() << " tokens, not " << options.vocab
              << ": no further pair occurs --min-frequency " << options.min_frequency
              << " times in the corpus\n";
  }
}

}  // namespace

void add_train_tokenizer_command(CLI::App& train) {
  auto options = std::make_shared<TrainTokenizerOptions>();
  auto* cmd = train.add_subcommand(
      "tokenizer",
      "Train a byte-level BPE tokenizer (GPT-2 byte map, Llama 3-style pre-tokenizer split) and "
      "write it as a Hugging Face tokenizer.json.");
  cmd->footer(
      "Corpus formats: fortune (records between lines holding only %), text (documents\n"
      "separated by blank lines), jsonl (one {\"text\": ...} a line); auto picks one per file.\n"
      "Ids: the special tokens first, then the 256 bytes, then the merges. tokenizer_config.json\n"
      "is written beside the output (bos and eos: the first special token unless given).\n"
      "The same input gives the same files, whatever --threads.\n\n"
      "Example:\n"
      "  qdgen train tokenizer --data /usr/share/games/fortunes/{science,love} --vocab 4096 \\\n"
      "      --out fortunes-bpe/tokenizer.json\n");
  cmd->add_option("--data", options->data, "corpus files (one or more)")->required();
  cmd->add_option("--vocab", options->vocab, "vocabulary size: special tokens + 256 bytes + merges")
      ->required();
  cmd->add_option("--out", options->out,
                  "tokenizer.json to write (tokenizer_config.json goes beside it)")
      ->required();
  cmd->add_option("--special-token", options->special_tokens,
                  "a special token (repeat the option for more; replaces the default)")
      ->capture_default_str();
  cmd->add_option("--min-frequency", options->min_frequency,
                  "merge a pair only when it occurs at least this often")
      ->capture_default_str();
  cmd->add_option("--format", options->format, "corpus format: auto, fortune, text or jsonl")
      ->check(CLI::IsMember({"auto", "fortune", "text", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--bos-token", options->bos_token,
                  "tokenizer_config.json's bos_token (default: the first special token)");
  cmd->add_option("--eos-token", options->eos_token,
                  "tokenizer_config.json's eos_token (default: the first special token)");
  cmd->add_option("--threads", options->threads,
                  "threads for counting words (default: one per core)")
      ->check(CLI::Range(0u, 1024u));
  cmd->add_flag("--overwrite", options->overwrite,
                "replace an existing output (tokenizer.json and tokenizer_config.json)");
  cmd->callback([options] { run_train_tokenizer(*options); });
}

}  // namespace qdgen::cli
