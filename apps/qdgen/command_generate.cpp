// qdgen generate: text from the embedded Llama model.

#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "commands.hpp"
#include "model_flags.hpp"
#include "number_checks.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/io/utf8.hpp"

namespace qdgen::cli {
namespace {

using nlohmann::json;

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
  // A million samples already take hours on any CPU; beyond, the request list alone would
  // not fit in memory.
  if (o.samples < 1 || o.samples > 1000000)
    throw std::runtime_error("-n " + std::to_string(o.samples) +
                             ": expected an integer in [1, 1000000]");
  const llm::LoraMixture lora = mixture_of(o.model);
  const auto model = load_model(o.model);
  std::vector<llm::GenerationRequest> requests(static_cast<std::size_t>(o.samples));
  for (int i = 0; i < o.samples; ++i) {
    auto& request = requests[static_cast<std::size_t>(i)];
    request.prompt = o.prompt;
    request.max_tokens = o.max_tokens;
    request.sampling = {o.temperature, o.top_k, o.top_p, o.seed + static_cast<std::uint64_t>(i)};
    request.stop = o.stop;
    request.lora = lora;
  }
  llm::GenerationStats stats;
  const auto generations = model->generate(requests, &stats);
  const double tokens_per_second =
      stats.seconds > 0 ? static_cast<double>(stats.generated_tokens) / stats.seconds : 0.0;
  for (std::size_t i = 0; i < generations.size(); ++i) {
    const auto& g = generations[i];
    if (o.format == "json") {
      json line{{"index", i},
                {"seed", requests[i].sampling.seed},
                {"text", io::valid_utf8(g.text)},
                {"token_ids", g.tokens},
                {"finish_reason", llm::finish_reason_name(g.finish)},
                {"prompt_tokens", g.prompt_tokens},
                {"generated_tokens", g.tokens.size()},
                {"tokens_per_second", tokens_per_second},
                {"device", io::valid_utf8(model->description())}};
      add_mixture_json(line, lora);
      std::cout << line.dump() << "\n";
    } else {
      if (generations.size() > 1) std::cout << (i ? "\n" : "") << "--- sample " << i << " ---\n";
      std::cout << io::valid_utf8(o.prompt + g.text) << "\n";
    }
    io::check_written(std::cout, "standard output");
  }
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<GenerateOptions>();
  auto* generate = app.add_subcommand("generate", "Generate text with the embedded Llama model");
  add_model_flags(generate, options->model);
  generate->add_option("--prompt", options->prompt, "prompt text")->required();
  generate->add_option("-n", options->samples, "number of samples (seeds seed, seed+1, ...)")
      ->capture_default_str();
  generate->add_option("--max-tokens", options->max_tokens, "tokens per sample")
      ->capture_default_str();
  generate->add_option("--temperature", options->temperature, "0 is greedy")->capture_default_str();
  generate->add_option("--top-p", options->top_p, "nucleus mass kept")->capture_default_str();
  generate->add_option("--top-k", options->top_k, "0: no cut")->capture_default_str();
  generate->add_option("--seed", options->seed, "seed of the first sample")
      ->check(unsigned_64_check())
      ->capture_default_str();
  generate->add_option("--stop", options->stop, "stop string (repeatable)");
  generate->add_option("--format", options->format, "text or json (one line a sample)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  generate->callback([options] { run_generate(*options); });
}

}  // namespace qdgen::cli
