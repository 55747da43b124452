// qdgen generate | score | embed: the embedded Llama model from the shell.

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "commands.hpp"
#include "qdgen/inference/embedded_model.hpp"

namespace qdgen::cli {
namespace {

using nlohmann::json;

struct ModelFlags {
  std::string model;
  std::string tokenizer;
  std::string device = "auto";
  int threads = 0;
};

void add_model_flags(CLI::App* command, ModelFlags& flags) {
  command
      ->add_option("--model", flags.model,
                   "model folder (config.json, safetensors, tokenizer.json) or llama2.c .bin")
      ->required();
  command->add_option("--tokenizer", flags.tokenizer,
                      "tokenizer.json or llama2.c tokenizer.bin (default: the folder's)");
  command->add_option("--device", flags.device, "auto, cpu or cuda")->capture_default_str();
  command->add_option("--threads", flags.threads, "CPU threads (0: all cores)")
      ->capture_default_str();
}

std::unique_ptr<inference::EmbeddedLanguageModel> load_model(const ModelFlags& flags) {
  inference::EmbeddedModelOptions options;
  options.model = flags.model;
  options.tokenizer = flags.tokenizer;
  options.runtime.device = flags.device;
  options.runtime.threads = flags.threads;
  return inference::EmbeddedLanguageModel::load(options);
}

struct GenerateOptions {
  ModelFlags model;
  std::string prompt;
  int samples = 1;
  std::int64_t max_tokens = 128;
  double temperature = 1.0;
  double top_p = 1.0;
  std::int64_t top_k = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> stop;
  std::string format = "text";
};

void run_generate(const GenerateOptions& o) {
  if (o.samples < 1)
    throw std::runtime_error("-n " + std::to_string(o.samples) + ": expected >= 1");
  const auto model = load_model(o.model);
  std::vector<inference::GenerationRequest> requests(static_cast<std::size_t>(o.samples));
  for (int i = 0; i < o.samples; ++i) {
    auto& request = requests[static_cast<std::size_t>(i)];
    request.prompt = o.prompt;
    request.max_tokens = o.max_tokens;
    request.sampling = {o.temperature, o.top_k, o.top_p, o.seed + static_cast<std::uint64_t>(i)};
    request.stop = o.stop;
  }
  inference::GenerationStats stats;
  const auto generations = model->generate(requests, &stats);
  const double tokens_per_second =
      stats.seconds > 0 ? static_cast<double>(stats.generated_tokens) / stats.seconds : 0.0;
  for (std::size_t i = 0; i < generations.size(); ++i) {
    const auto& g = generations[i];
    if (o.format == "json") {
      std::cout << json{{"index", i},
                        {"seed", requests[i].sampling.seed},
                        {"text", g.text},
                        {"token_ids", g.tokens},
                        {"finish_reason", inference::finish_reason_name(g.finish)},
                        {"prompt_tokens", g.prompt_tokens},
                        {"generated_tokens", g.tokens.size()},
                        {"tokens_per_second", tokens_per_second},
                        {"device", model->model().device_name()}}
                       .dump()
                << "\n";
    } else {
      if (generations.size() > 1) std::cout << (i ? "\n" : "") << "--- sample " << i << " ---\n";
      std::cout << o.prompt << g.text << "\n";
    }
  }
}

struct ScoreOptions {
  ModelFlags model;
  std::string prompt;
  std::vector<std::string> continuations;
  std::string format = "text";
};

void run_score(const ScoreOptions& o) {
  const auto model = load_model(o.model);
  const auto scores = model->score(o.prompt, o.continuations);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (o.format == "json") {
      std::cout << json{{"continuation", o.continuations[i]}, {"logprob", scores[i]}}.dump()
                << "\n";
    } else {
      std::cout << scores[i] << "\t" << o.continuations[i] << "\n";
    }
  }
}

struct EmbedOptions {
  ModelFlags model;
  std::string input = "-";
  std::string output;
};

// One text per line, or JSON Lines {"text": ...}; blank lines are skipped.
std::vector<std::string> read_texts(const std::string& input) {
  std::ifstream file;
  if (input != "-") {
    file.open(input);
    if (!file) throw std::runtime_error(input + ": cannot open");
  }
  std::istream& in = input == "-" ? std::cin : file;
  const std::string source = input == "-" ? "stdin" : input;
  std::vector<std::string> texts;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.front() == '{') {
      const json value = json::parse(line, nullptr, false);
      if (value.is_discarded() || !value.is_object() || !value.contains("text") ||
          !value["text"].is_string()) {
        throw std::runtime_error(source + ":" + std::to_string(number) +
                                 ": expected a JSON object with a string \"text\" key");
      }
      texts.push_back(value["text"].get<std::string>());
    } else {
      texts.push_back(line);
    }
  }
  if (texts.empty()) throw std::runtime_error(source + ": no texts (expected one per line)");
  return texts;
}

// NPY version 1.0, little-endian float32, C order: numpy.load reads it as an (n, d) array.
void write_npy(const std::string& path, const std::vector<std::vector<float>>& rows) {
  const std::size_t columns = rows.empty() ? 0 : rows.front().size();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows.size()) + ", " + std::to_string(columns) + "), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error(path + ": cannot write");
  const std::uint16_t header_length = static_cast<std::uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.put(static_cast<char>(header_length & 0xff)).put(static_cast<char>(header_length >> 8));
  out << header;
  for (const auto& row : rows) {
    out.write(reinterpret_cast<const char*>(row.data()),
              static_cast<std::streamsize>(row.size() * sizeof(float)));
  }
  if (!out) throw std::runtime_error(path + ": write failed");
}

void run_embed(const EmbedOptions& o) {
  const auto texts = read_texts(o.input);
  const auto model = load_model(o.model);
  const auto vectors = model->embed(texts);
  if (o.output.size() > 4 && o.output.ends_with(".npy")) {
    write_npy(o.output, vectors);
    return;
  }
  std::ofstream file;
  if (!o.output.empty()) {
    file.open(o.output);
    if (!file) throw std::runtime_error(o.output + ": cannot write");
  }
  std::ostream& out = o.output.empty() ? std::cout : file;
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    out << json{{"index", i}, {"embedding", vectors[i]}}.dump() << "\n";
  }
}

}  // namespace

void add_model_commands(CLI::App& app) {
  auto generate_options = std::make_shared<GenerateOptions>();
  auto* generate = app.add_subcommand("generate", "Generate text with the embedded Llama model");
  add_model_flags(generate, generate_options->model);
  generate->add_option("--prompt", generate_options->prompt, "prompt text")->required();
  generate
      ->add_option("-n", generate_options->samples, "number of samples (seeds seed, seed+1, ...)")
      ->capture_default_str();
  generate->add_option("--max-tokens", generate_options->max_tokens, "tokens per sample")
      ->capture_default_str();
  generate->add_option("--temperature", generate_options->temperature, "0 is greedy")
      ->capture_default_str();
  generate->add_option("--top-p", generate_options->top_p, "nucleus mass kept")
      ->capture_default_str();
  generate->add_option("--top-k", generate_options->top_k, "0: no cut")->capture_default_str();
  generate->add_option("--seed", generate_options->seed, "seed of the first sample")
      ->capture_default_str();
  generate->add_option("--stop", generate_options->stop, "stop string (repeatable)");
  generate->add_option("--format", generate_options->format, "text or json (one line a sample)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  generate->callback([generate_options] { run_generate(*generate_options); });

  auto score_options = std::make_shared<ScoreOptions>();
  auto* score = app.add_subcommand(
      "score", "Log-probability (natural log) of each continuation after the prompt");
  add_model_flags(score, score_options->model);
  score->add_option("--prompt", score_options->prompt, "prompt text")->required();
  score->add_option("--continuation", score_options->continuations, "continuation (repeatable)")
      ->required();
  score->add_option("--format", score_options->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  score->callback([score_options] { run_score(*score_options); });

  auto embed_options = std::make_shared<EmbedOptions>();
  auto* embed = app.add_subcommand(
      "embed", "Unit-length embedding per text (mean-pooled final hidden states)");
  add_model_flags(embed, embed_options->model);
  embed->add_option("input", embed_options->input,
                    "texts, one per line or JSON Lines {\"text\": ...} (default: stdin)");
  embed->add_option("-o,--output", embed_options->output,
                    "output file: .npy (float32, n x d) or JSON Lines (default: stdout)");
  embed->callback([embed_options] { run_embed(*embed_options); });
}

}  // namespace qdgen::cli
