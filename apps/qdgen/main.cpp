// qdgen: quality-diversity search for generation. See README.md.

#include <exception>
#include <iostream>

#include "commands.hpp"
#include "qdgen/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "qdgen: quality-diversity search for generation.\n"
      "Finds many good and different answers (MAP-Elites, CMA-ME/MAE, novelty search),\n"
      "keeps every candidate in one SQLite file per run, and measures diversity with the\n"
      "Vendi score family.",
      "qdgen"};
  app.set_version_flag("--version", std::string("qdgen ") + qdgen::kVersion);
  app.require_subcommand(1);
  app.fallthrough(false);

  qdgen::cli::add_run_command(app);
  qdgen::cli::add_export_command(app);
  qdgen::cli::add_metrics_command(app);
  qdgen::cli::add_tokenize_command(app);
  qdgen::cli::add_generate_command(app);
  qdgen::cli::add_score_command(app);
  qdgen::cli::add_embed_command(app);
  CLI::App* train = app.add_subcommand("train", "Train models: a base from scratch, LoRA adapters");
  train->require_subcommand(1);
  qdgen::cli::add_train_base_command(*train);
  qdgen::cli::add_train_lora_command(*train);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::string command = "qdgen";
    for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      command += " " + sub->get_name();
    }
    std::cerr << command << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
