// Placeholder registration until this command's issue lands; replaced by its owner.
#include <stdexcept>

#include "commands.hpp"

namespace qdgen::cli {

void add_metrics_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("metrics", "(not built yet)");
  cmd->callback([] { throw std::runtime_error("'metrics' is not built yet"); });
}

}  // namespace qdgen::cli
