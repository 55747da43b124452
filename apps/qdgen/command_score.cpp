// qdgen score: log-probabilities of continuations under the embedded Llama model.

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_flags.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/io/utf8.hpp"

namespace qdgen::cli {
namespace {

struct ScoreOptions {
  ModelFlags model;
  std::string prompt;
  std::vector<std::string> continuations;
  std::string format = "text";
};

void run_score(const ScoreOptions& o) {
  const llm::LoraMixture lora = mixture_of(o.model);
  const auto model = load_model(o.model);
  const std::vector<llm::ScoreRequest> request{{o.prompt, o.continuations, lora}};
  const auto scores = model->score(request).at(0);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    // The continuation is scored as given and shown as valid UTF-8.
    const std::string shown = io::valid_utf8(o.continuations[i]);
    if (o.format == "json") {
      nlohmann::json line{{"continuation", shown}, {"logprob", scores[i].logprob}};
      add_mixture_json(line, lora);
      std::cout << line.dump() << "\n";
    } else {
      std::cout << scores[i].logprob << "\t" << shown << "\n";
    }
    io::check_written(std::cout, "standard output");
  }
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto options = std::make_shared<ScoreOptions>();
  auto* score = app.add_subcommand(
      "score", "Log-probability (natural log) of each continuation after the prompt");
  add_model_flags(score, options->model);
  score->add_option("--prompt", options->prompt, "prompt text")->required();
  score->add_option("--continuation", options->continuations, "continuation (repeatable)")
      ->required();
  score->add_option("--format", options->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  score->callback([options] { run_score(*options); });
}

}  // namespace qdgen::cli
