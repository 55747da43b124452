// qdgen train: the training commands, one subcommand each (each in its own file).

#include "commands.hpp"

namespace qdgen::cli {

void add_train_command(CLI::App& app) {
  auto* train = app.add_subcommand(
      "train", "Training from a corpus, one subcommand per kind of thing trained.");
  train->require_subcommand(1);
  add_train_tokenizer_command(*train);
  add_train_base_command(*train);
  add_train_lora_command(*train);
}

}  // namespace qdgen::cli
