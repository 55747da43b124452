// qdgen train base: a Llama-family model from scratch, saved as a Hugging Face folder.

#include "commands.hpp"
#include "training_flags.hpp"

namespace qdgen::cli {

void add_train_base_command(CLI::App& train) {
  struct Options {
    std::string model_config, tokenizer;
    double init_std = 0.02;
    TrainingFlags flags;
  };
  auto options = std::make_shared<Options>();
  auto* command = train.add_subcommand(
      "base",
      "Train a Llama-family model from scratch (a Hugging Face folder that qdgen generate "
      "loads)");
  command
      ->add_option("--model-config", options->model_config,
                   "Hugging Face config.json of the model (sizes, heads, vocab_size, ...)")
      ->required();
  command->add_option("--tokenizer", options->tokenizer, "tokenizer.json (fits the vocab_size)")
      ->required();
  command->add_option("--init-std", options->init_std, "std of the normal initialisation")
      ->capture_default_str();
  add_training_flags(command, options->flags);
  command->callback([options] {
    run_training_command("qdgen train base", options->flags,
                         [&](const inference::TrainingOptions& training,
                             const inference::TrainingProgressFn& progress) {
                           inference::BaseTrainingOptions base;
                           base.model_config = options->model_config;
                           base.tokenizer = options->tokenizer;
                           base.init_std = options->init_std;
                           base.training = training;
                           inference::TrainingResult result;
                           train_base_entry()(base, progress, result);
                           return result;
                         });
  });
}

}  // namespace qdgen::cli
