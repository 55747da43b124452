// qdgen export RUN.sqlite --what elites|candidates|iterations --format csv|jsonl [-o FILE]
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "commands.hpp"
#include "qdgen/io/atomic_file.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/store/run_export.hpp"

namespace qdgen::cli {

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export", "Write a run's elites, candidates or iterations as CSV or JSON Lines");
  struct Options {
    std::string run_file;
    std::string what = "elites";
    std::string format = "csv";
    std::string output;
  };
  auto options = std::make_shared<Options>();
  cmd->add_option("run", options->run_file, "Run file (.sqlite) written by qdgen run")->required();
  cmd->add_option("--what", options->what, "Table to export")
      ->check(CLI::IsMember({"elites", "candidates", "iterations"}))
      ->capture_default_str();
  cmd->add_option("--format", options->format, "Output format")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", options->output, "Output file (default: standard output)");
  cmd->callback([options] {
    const std::map<std::string, store::ExportTable> tables = {
        {"elites", store::ExportTable::kElites},
        {"candidates", store::ExportTable::kCandidates},
        {"iterations", store::ExportTable::kIterations}};
    const auto format =
        options->format == "jsonl" ? store::ExportFormat::kJsonl : store::ExportFormat::kCsv;
    if (options->output.empty()) {
      store::export_run(options->run_file, tables.at(options->what), format, std::cout);
      return;
    }
    // The run and its SQLite companions are inputs: writing over one would destroy the run.
    for (const char* suffix : {"", "-wal", "-shm"})
      io::refuse_output_over_input(options->output, options->run_file + suffix);
    io::AtomicFileWriter out(options->output);
    try {
      store::export_run(options->run_file, tables.at(options->what), format, out.stream());
    } catch (...) {
      out.check();  // a failed write is the error to report, naming the file
      throw;
    }
    out.commit();
  });
}

}  // namespace qdgen::cli
