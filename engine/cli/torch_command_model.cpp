// Placeholder registration until the embedded LLM lands; replaced by its owner.
#include <stdexcept>

#include "commands.hpp"

namespace qdgen::cli {

void add_model_commands(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "(not built yet)");
  cmd->callback([] { throw std::runtime_error("'generate' is not built yet"); });
}

}  // namespace qdgen::cli
