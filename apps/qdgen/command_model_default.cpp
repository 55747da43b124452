// qdgen model build-default | info: the default model qdgen trains itself from Debian's
// fortunes (a tokenizer, a base, one LoRA expert per category), cached by a hash of its
// recipe and corpus. Finding and checking the cache needs no libtorch; building goes through
// the embedded-model module.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "model_flags.hpp"
#include "qdgen/inference/default_model.hpp"
#include "qdgen/inference/training.hpp"
#include "qdgen/io/json_text.hpp"
#include "qdgen/io/utf8.hpp"
#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string fixed(double value, const char* pattern = "%.4f") {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

inference::BuildDefaultModelFn build_entry() {
  const auto module = embedded_module_path();
  const auto interface = reinterpret_cast<inference::TrainingInterfaceFn>(
      llm::embedded_module_symbol(module, inference::kTrainingInterfaceSymbol));
  if (interface() != inference::kTrainingInterface) {
    throw std::runtime_error(module.string() +
                             ": the module's training interface is of another qdgen build "
                             "(rebuild qdgen)");
  }
  return reinterpret_cast<inference::BuildDefaultModelFn>(
      llm::embedded_module_symbol(module, inference::kBuildDefaultModelSymbol));
}

// One line per stage, every 10 % of its steps and at its evaluation (stderr).
void print_progress(const std::string& stage, int index, int count,
                    const inference::TrainingProgress& p) {
  const std::string label =
      stage.starts_with("expert ")
          ? "[" + stage + " " + std::to_string(index + 1) + "/" + std::to_string(count) + "]"
          : "[" + stage + "]";
  if (p.steps == 0) {
    std::cerr << label << " ...\n";
    return;
  }
  using Event = inference::TrainingProgress::Event;
  const std::int64_t every = std::max<std::int64_t>(1, p.steps / 10);
  if (p.event == Event::kCheckpoint) return;
  if (p.event == Event::kEvaluation || p.step % every == 0) {
    std::cerr << label << " step " << p.step << "/" << p.steps << "  loss "
              << (p.step > 0 ? fixed(p.loss) : std::string("-")) << "  held-out "
              << (p.heldout_loss ? fixed(*p.heldout_loss) : std::string("-")) << "  "
              << fixed(p.tokens_per_second, "%.0f") << " tok/s\n";
  }
}

// The specialisation table: rows are the models (base, then each expert), columns the
// categories; '*' marks the best model of a column.
void print_table(const json& evaluation) {
  const auto& categories = evaluation.at("categories");
  std::size_t width = 6;
  for (const auto& c : categories) width = std::max(width, c.get<std::string>().size());
  std::cout << "  mean held-out log-likelihood per token (nats; higher is better):\n";
  std::cout << "    " << std::string(width + 8, ' ');
  for (const auto& c : categories) {
    const std::string name = c.get<std::string>();
    std::cout << std::string(width + 2 - name.size(), ' ') << name;
  }
  std::cout << "\n";
  const auto row = [&](const std::string& label, const json& values) {
    std::cout << "    " << label << std::string(width + 8 - label.size(), ' ');
    for (const auto& c : categories) {
      const std::string name = c.get<std::string>();
      double best = evaluation.at("base").at(name).get<double>();
      for (const auto& [expert, scores] : evaluation.at("experts").items()) {
        best = std::max(best, scores.at(name).get<double>());
      }
      const double value = values.at(name).get<double>();
      const std::string cell = fixed(value) + (value == best ? "*" : " ");
      std::cout << std::string(width + 2 > cell.size() ? width + 2 - cell.size() : 1, ' ') << cell;
    }
    std::cout << "\n";
  };
  row("base", evaluation.at("base"));
  for (const auto& c : categories) {  // the recipe's order
    const std::string expert = c.get<std::string>();
    row("expert " + expert, evaluation.at("experts").at(expert));
  }
}

void print_model(const inference::DefaultModelPlan& plan, const json& manifest) {
  const fs::path folder = plan.folder;
  const json& base = manifest.at("base");
  const json& config = base.at("config");
  std::cout << "  base          " << io::valid_utf8((folder / "base").string()) << "\n";
  std::cout << "                " << base.at("parameters").get<std::int64_t>()
            << " parameters (hidden " << config.at("hidden_size") << ", "
            << config.at("num_hidden_layers") << " layers, vocab " << config.at("vocab_size")
            << ", context " << config.at("max_position_embeddings") << "), held-out loss "
            << fixed(base.at("heldout_loss").get<double>()) << " nats/token\n";
  std::cout << "  experts       " << io::valid_utf8((folder / "experts").string()) << "/NAME:";
  for (const auto& name : manifest.at("evaluation").at("categories")) {
    std::cout << " " << io::valid_utf8(name.get<std::string>());
  }
  std::cout << "\n";
  const json& t = manifest.at("timings");
  std::cout << "  built in      " << fixed(t.at("total").get<double>(), "%.1f") << " s ("
            << fixed(t.at("cpu_seconds").get<double>(), "%.0f") << " CPU s, " << t.at("threads")
            << " threads; tokenizer " << fixed(t.at("tokenizer").get<double>(), "%.1f")
            << " s, base " << fixed(t.at("base").get<double>(), "%.1f") << " s, evaluation "
            << fixed(t.at("evaluation").get<double>(), "%.1f") << " s)\n";
  print_table(manifest.at("evaluation"));
}

json summary_json(const inference::DefaultModelPlan& plan, const inference::DefaultModelState& s) {
  json out = {{"folder", plan.folder.string()},
              {"base", (plan.folder / "base").string()},
              {"ready", s.ready},
              {"key", plan.key},
              {"corpus", plan.corpus_folder.string()},
              {"corpus_hash", plan.corpus_hash},
              {"recipe", plan.recipe_json}};
  json experts = json::object();
  for (const auto& [name, file] : plan.categories) {
    experts[name] = (plan.folder / "experts" / name).string();
  }
  out["experts"] = experts;
  if (s.ready) {
    out["manifest"] = s.manifest;
  } else {
    out["problem"] = s.problem;
  }
  return out;
}

struct BuildOptions {
  bool force = false;
  int threads = 0;
  std::string format = "text";
};

void run_build_default(const BuildOptions& o) {
  const auto start = Clock::now();
  const auto plan =
      inference::plan_default_model(inference::default_model_sources_from_environment());
  inference::DefaultModelState state;
  bool reused = false;
  if (!o.force) {
    state = inference::check_default_model(plan);
    reused = state.ready;
    if (!state.ready && state.problem != "not built yet") {
      std::cerr << "qdgen model build-default: rebuilding the damaged default model ("
                << io::valid_utf8(state.problem) << ")\n";
    }
  }
  if (!reused) {
    inference::DefaultModelBuild build;
    build.plan = plan;
    build.force = o.force;
    build.threads = o.threads;
    json manifest;
    build_entry()(build, print_progress, manifest);
    state = inference::DefaultModelState{true, "", manifest};
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (o.format == "json") {
    json out = summary_json(plan, state);
    out["reused"] = reused;
    out["seconds"] = seconds;
    std::cout << io::dump_json(out) << "\n";
    return;
  }
  std::cout << "default model " << (reused ? "reused" : "built") << " in " << fixed(seconds, "%.1f")
            << " s: " << io::valid_utf8(plan.folder.string()) << "\n";
  print_model(plan, state.manifest);
}

void run_info(const std::string& format) {
  const auto plan =
      inference::plan_default_model(inference::default_model_sources_from_environment());
  const auto state = inference::check_default_model(plan);
  if (format == "json") {
    std::cout << io::dump_json(summary_json(plan, state)) << "\n";
    return;
  }
  std::cout << "default model: " << io::valid_utf8(plan.folder.string()) << "\n";
  std::cout << "  corpus        " << io::valid_utf8(plan.corpus_folder.string()) << " ("
            << plan.corpus_files.size() << " files, " << plan.corpus_bytes << " bytes, hash "
            << plan.corpus_hash << ")\n";
  if (!state.ready) {
    std::cout << "  state         " << io::valid_utf8(state.problem)
              << " (qdgen model build-default builds it)\n";
    return;
  }
  std::cout << "  state         ready (qdgen generate --model default loads the base)\n";
  print_model(plan, state.manifest);
}

}  // namespace

void add_model_default_commands(CLI::App& model) {
  const std::string where =
      "The cache: $XDG_CACHE_HOME/qdgen/default-model/KEY (else ~/.cache/qdgen/...), KEY a hash\n"
      "of the recipe and the corpus. " +
      std::string(inference::kFortunesFolderVariable) + " names another fortune folder than\n" +
      inference::kFortunesFolder + "; " + inference::kRecipeVariable +
      " a JSON file merged over the built-in\nrecipe (see qdgen model info --format json).\n";
  auto build_options = std::make_shared<BuildOptions>();
  auto* build = model.add_subcommand(
      "build-default",
      "Train the default model from Debian's fortunes (tokenizer, base, one LoRA expert per "
      "category) unless it is cached whole");
  build->footer(where +
                "Loading it: qdgen generate --model default (the base); the experts are PEFT\n"
                "adapter folders in experts/NAME beside it.\n");
  build->add_flag("--force", build_options->force, "rebuild even when the cache is whole");
  build->add_option("--threads", build_options->threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  build->add_option("--format", build_options->format, "summary: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  build->callback([build_options] { run_build_default(*build_options); });

  auto format = std::make_shared<std::string>("text");
  auto* info = model.add_subcommand(
      "info", "Where the default model is cached, whether it is whole, and what it holds");
  info->footer(where);
  info->add_option("--format", *format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  info->callback([format] { run_info(*format); });
}

}  // namespace qdgen::cli
