// qdgen report RUN.sqlite... [-o DIR] [--overwrite]: a folder to open in a browser
// (viz/report.hpp).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "number_checks.hpp"
#include "qdgen/viz/report.hpp"

namespace qdgen::cli {

namespace {

std::string size_text(std::uintmax_t bytes) {
  char text[32];
  if (bytes >= 1024 * 1024)
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024.0));
  else if (bytes >= 1024)
    std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024.0);
  else
    std::snprintf(text, sizeof text, "%ju B", bytes);
  return text;
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report",
      "Write a folder that shows runs in a browser: index.html (archive map, curves, elite "
      "browser), archive.png, archive.svg, curves.svg");
  struct Options {
    std::vector<std::string> runs;
    std::string folder;
    bool overwrite = false;
  };
  auto options = std::make_shared<Options>();
  cmd->add_option("runs", options->runs,
                  "Run files (.sqlite) written by qdgen run; several are overlaid in the curves")
      ->required();
  cmd->add_option("-o,--output", options->folder,
                  "Folder to write (default: beside the first run, RUN-report/)")
      ->check(non_empty_check());
  cmd->add_flag("--overwrite", options->overwrite,
                "Write into a non-empty folder that is not an earlier report (its other files "
                "stay)");
  cmd->callback([options] {
    viz::ReportOptions report;
    for (const std::string& run : options->runs) report.runs.emplace_back(run);
    report.folder = options->folder.empty() ? viz::default_report_folder(report.runs[0])
                                            : std::filesystem::path(options->folder);
    report.overwrite = options->overwrite;
    const viz::ReportSummary summary = viz::write_report(report);
    std::cout << "report: " << (report.folder / "index.html").string() << "\n";
    std::cout << "  " << report.runs.size() << (report.runs.size() == 1 ? " run, " : " runs, ")
              << summary.elites << " elites, " << summary.candidates << " candidates in "
              << summary.shard_files << " shard files, " << summary.seconds << " s\n";
    for (const viz::ReportFile& file : summary.files)
      std::cout << "  " << file.path.string() << "  " << size_text(file.bytes) << "\n";
  });
}

}  // namespace qdgen::cli
