#pragma once
// Each subcommand of `qdgen` lives in its own file and registers itself here.
// A command reports bad input by throwing (std::exception): main prints one line,
// "qdgen <command>: <message>", and exits with status 1.

#include <CLI/CLI.hpp>

namespace qdgen::cli {

void add_metrics_command(CLI::App& app);   // command_metrics.cpp
void add_run_command(CLI::App& app);       // command_run.cpp
void add_export_command(CLI::App& app);    // command_export.cpp
void add_tokenize_command(CLI::App& app);  // command_tokenize.cpp
#ifdef QDGEN_WITH_TORCH
void add_model_commands(CLI::App& app);  // torch_command_model.cpp: generate, score, embed
#endif

}  // namespace qdgen::cli
