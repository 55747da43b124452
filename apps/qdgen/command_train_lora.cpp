// qdgen train lora: one PEFT LoRA adapter on a frozen base model.

#include "commands.hpp"
#include "training_flags.hpp"

namespace qdgen::cli {

void add_train_lora_command(CLI::App& train) {
  struct Options {
    std::string model, tokenizer;
    inference::LoraTrainingOptions lora;
    TrainingFlags flags;
  };
  auto options = std::make_shared<Options>();
  options->flags.options = options->lora.training;  // LoRA's own defaults
  auto* command = train.add_subcommand(
      "lora", "Train one LoRA adapter (PEFT's format) on a frozen Hugging Face base model");
  command->add_option("--model", options->model, "the base model's folder")->required();
  command->add_option("--tokenizer", options->tokenizer, "tokenizer.json (default: the model's)");
  command->add_option("--r", options->lora.r, "LoRA rank")->capture_default_str();
  command->add_option("--alpha", options->lora.alpha, "LoRA alpha (scale alpha / r)")
      ->capture_default_str();
  command
      ->add_option("--targets", options->lora.targets,
                   "projections: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj, or "
                   "all-linear")
      ->delimiter(',')
      ->capture_default_str();
  command->add_flag("--rslora", options->lora.rslora, "rank-stabilised scale alpha / sqrt(r)");
  add_training_flags(command, options->flags);
  command->callback([options] {
    run_training_command("qdgen train lora", options->flags,
                         [&](const inference::TrainingOptions& training,
                             const inference::TrainingProgressFn& progress) {
                           inference::LoraTrainingOptions lora = options->lora;
                           lora.model = options->model;
                           lora.tokenizer = options->tokenizer;
                           lora.training = training;
                           inference::TrainingResult result;
                           train_lora_entry()(lora, progress, result);
                           return result;
                         });
  });
}

}  // namespace qdgen::cli
