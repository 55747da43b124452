#pragma once
// Each subcommand of `qdgen` lives in its own file and registers itself here.
// A command reports bad input by throwing (std::exception): main prints one line,
// "qdgen <command>: <message>", and exits with status 1.

#include <CLI/CLI.hpp>

namespace qdgen::cli {

void add_metrics_command(CLI::App& app);   // command_metrics.cpp
void add_run_command(CLI::App& app);       // command_run.cpp
void add_export_command(CLI::App& app);    // command_export.cpp
void add_report_command(CLI::App& app);    // command_report.cpp
// `qdgen dashboard` (command_dashboard.cpp): the live report over HTTP (http/).
void add_dashboard_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);  // command_tokenize.cpp
// `qdgen train` is a group (command_train.cpp); each training subcommand has its own file and
// adds itself to the group there.
void add_train_command(CLI::App& app);              // command_train.cpp
void add_train_tokenizer_command(CLI::App& train);  // command_train_tokenizer.cpp
// The model commands reach the embedded model through its module (model_flags.hpp), so
// this binary never links libtorch.
void add_generate_command(CLI::App& app);          // command_generate.cpp
void add_score_command(CLI::App& app);             // command_score.cpp
void add_embed_command(CLI::App& app);             // command_embed.cpp
void add_model_command(CLI::App& app);             // command_model.cpp: model merge
void add_model_default_commands(CLI::App& model);  // command_model_default.cpp: build-default, info
void add_train_base_command(CLI::App& train);      // command_train_base.cpp (in the module)
void add_train_lora_command(CLI::App& train);      // command_train_lora.cpp (in the module)

}  // namespace qdgen::cli
