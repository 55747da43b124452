// qdgen: quality-diversity search for generation. See README.md.

#include <unistd.h>

#include <exception>
#include <iostream>
#include <new>

#include "commands.hpp"
#include "qdgen/common/memory_budget.hpp"
#include "qdgen/io/fd_output.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/io/utf8.hpp"
#include "qdgen/version.hpp"

namespace {

// Standard output through a buffer that keeps the first write error, so that a failed write
// is reported with its reason (errno has long moved on by the time a command checks). Nothing
// in qdgen writes to stdout through C stdio, so nothing can interleave. Flushed and put back
// before main returns, while std::cout can still reach it.
class StandardOutput {
 public:
  StandardOutput() : buffer_(STDOUT_FILENO), previous_(std::cout.rdbuf(&buffer_)) {}
  ~StandardOutput() {
    std::cout.flush();
    std::cout.rdbuf(previous_);
  }
  StandardOutput(const StandardOutput&) = delete;
  StandardOutput& operator=(const StandardOutput&) = delete;

 private:
  qdgen::io::FdOutputBuffer buffer_;
  std::streambuf* previous_;
};

}  // namespace

int main(int argc, char** argv) {
  const StandardOutput standard_output;
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
  qdgen::cli::add_report_command(app);
  qdgen::cli::add_dashboard_command(app);
  qdgen::cli::add_metrics_command(app);
  qdgen::cli::add_tokenize_command(app);
  qdgen::cli::add_train_command(app);
  qdgen::cli::add_generate_command(app);
  qdgen::cli::add_score_command(app);
  qdgen::cli::add_embed_command(app);
  qdgen::cli::add_model_command(app);

  std::string command = "qdgen";
  try {
    app.parse(argc, argv);
    // Every command's output ends here: a write that failed (a full disk, /dev/full, a closed
    // pipe) is exit 1 with the reason, never a silent exit 0.
    qdgen::io::flush_and_check(std::cout, "standard output");
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);  // --help and --version print to standard output too
    try {
      qdgen::io::flush_and_check(std::cout, "standard output");
    } catch (const std::exception& error) {
      std::cerr << command << ": " << error.what() << "\n";
      return 1;
    }
    return status;
  } catch (const std::exception& e) {
    for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
      sub = sub->get_subcommands().front();
      command += " " + sub->get_name();
    }
    // Messages quote file names and input, which may not be UTF-8: a terminal gets valid text.
    // A bare std::bad_alloc says nothing of why: sizes the libraries check name themselves,
    // and what is left gets the machine's memory at least.
    const bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr;
    std::cerr << command << ": "
              << (out_of_memory ? "out of memory (this machine has " +
                                      qdgen::common::format_bytes(static_cast<double>(
                                          qdgen::common::physical_memory_bytes())) +
                                      "): the input or its settings ask for more"
                                : qdgen::io::valid_utf8(e.what()))
              << "\n";
    return 1;
  }
  return 0;
}
