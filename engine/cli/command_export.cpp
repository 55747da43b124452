// Placeholder registration until this command's issue lands; replaced by its owner.
#include <stdexcept>

#include "commands.hpp"

namespace qdgen::cli {

void add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "(not built yet)");
  cmd->callback([] { throw std::runtime_error("'export' is not built yet"); });
}

}  // namespace qdgen::cli
