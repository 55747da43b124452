// qdgen embed: one unit vector per text from the embedded Llama model.

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "commands.hpp"
#include "model_flags.hpp"
#include "qdgen/io/atomic_file.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/metrics/io.hpp"
#include "text_input.hpp"

namespace qdgen::cli {
namespace {

using nlohmann::json;

struct EmbedOptions {
  ModelFlags model;
  std::string input = "-";
  std::string output;
  std::string input_format = "auto";
};

// Through the one text reader (text_input.hpp); blank lines are skipped (an empty text has
// no tokens to pool), so "index" counts texts, not lines.
std::vector<std::string> read_texts(const std::string& path, const std::string& input_format) {
  TextInput input(path);
  std::vector<std::string> texts;
  std::string line;
  while (input.next(line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    texts.push_back(line_text(line, input.where(), input_format));
  }
  if (texts.empty())
    throw std::runtime_error(input.source() + ": no texts (expected one per line)");
  return texts;
}

void write_jsonl(const std::vector<std::vector<float>>& vectors, const llm::LoraMixture& lora,
                 std::ostream& out, const std::string& name) {
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    json line{{"index", i}, {"embedding", vectors[i]}};
    add_mixture_json(line, lora);
    out << line.dump() << "\n";
    io::check_written(out, name);
  }
}

void run_embed(const EmbedOptions& o) {
  if (!o.output.empty() && o.input != "-") io::refuse_output_over_input(o.output, o.input);
  const llm::LoraMixture lora = mixture_of(o.model);
  if (lora.from_position == llm::LoraMixture::kLastPromptToken) {
    throw std::runtime_error(
        "--mixture-from prompt: embed reads texts, not prompts; give a position");
  }
  const auto texts = read_texts(o.input, o.input_format);
  const auto model = load_model(o.model);
  std::vector<llm::EmbedRequest> requests;
  for (const std::string& text : texts) requests.push_back({text, lora});
  const auto vectors = model->embed(requests);
  if (o.output.size() > 4 && o.output.ends_with(".npy")) {
    metrics::write_npy_float32(o.output, vectors);
    return;
  }
  if (o.output.empty()) {
    write_jsonl(vectors, lora, std::cout, "standard output");
    return;
  }
  // Written whole or not at all, like every file qdgen writes.
  io::AtomicFileWriter file(o.output);
  try {
    write_jsonl(vectors, lora, file.stream(), o.output);
  } catch (...) {
    file.check();
    throw;
  }
  file.commit();
}

}  // namespace

void add_embed_command(CLI::App& app) {
  auto options = std::make_shared<EmbedOptions>();
  auto* embed = app.add_subcommand(
      "embed", "Unit-length embedding per text (mean-pooled final hidden states)");
  add_model_flags(embed, options->model);
  embed->add_option("input", options->input,
                    "texts, one per line or JSON Lines {\"text\": ...}; blank lines are skipped "
                    "(default: stdin)");
  embed->add_option("--input-format", options->input_format, kInputFormatHelp)
      ->check(CLI::IsMember({"auto", "text", "jsonl"}))
      ->capture_default_str();
  embed->add_option("-o,--output", options->output,
                    "output file: .npy (float32, n x d) or JSON Lines (default: stdout)");
  embed->callback([options] { run_embed(*options); });
}

}  // namespace qdgen::cli
