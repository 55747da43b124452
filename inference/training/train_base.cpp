// train_base: a Llama-family model from scratch, saved as a Hugging Face folder.

#include <fstream>
#include <stdexcept>

#include "llama_trainable.hpp"
#include "output_folder.hpp"
#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/training.hpp"
#include "training_run.hpp"
#include "training_runtime.hpp"
#include "training_setup.hpp"

namespace qdgen::inference {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace training;

namespace {

// The tokenizer files: tokenizer.json, and tokenizer_config.json from beside it or, when
// it has none, one naming the end-of-text token (so loaders agree on eos).
void write_tokenizer_files(const fs::path& tokenizer, const Tokenizer& loaded, TokenId end_of_text,
                           const LlamaConfig& config, const fs::path& folder) {
  fs::copy_file(tokenizer, folder / "tokenizer.json");
  const fs::path beside = tokenizer.parent_path() / "tokenizer_config.json";
  if (fs::exists(beside)) {
    fs::copy_file(beside, folder / "tokenizer_config.json");
    return;
  }
  json config_json = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                      {"eos_token", loaded.id_to_token(end_of_text)},
                      {"bos_token", nullptr},
                      {"clean_up_tokenization_spaces", false},
                      {"model_max_length", config.max_position_embeddings}};
  if (const auto bos = loaded.bos_id()) config_json["bos_token"] = loaded.id_to_token(*bos);
  write_text_file(folder / "tokenizer_config.json", config_json.dump(2) + "\n");
}

}  // namespace

TrainingResult train_base(const BaseTrainingOptions& options, const TrainingProgressFn& progress) {
  check_output_folders(options.training);
  LlamaConfig config = read_llama_config(options.model_config);
  const TrainingOptions o = resolve_options(options.training, config);
  if (!(options.init_std > 0)) {
    throw std::runtime_error("--init-std " + json(options.init_std).dump() +
                             ": expected a positive number");
  }
  const auto tokenizer =
      load_fitting_tokenizer(options.tokenizer, config, options.model_config.string());
  const TokenId end_of_text = end_of_text_token(*tokenizer, options.tokenizer);
  const TrainingRuntime runtime(o.threads);
  const TrainingCorpus corpus = read_corpus(o, *tokenizer, end_of_text);

  // The saved model stops at the token that ends every training document.
  if (config.eos_token_ids.empty()) config.eos_token_ids = {end_of_text};
  if (!config.bos_token_id && tokenizer->bos_id()) config.bos_token_id = *tokenizer->bos_id();

  LlamaTrainable model(config);
  model.initialise(options.init_std, o.seed);
  model.set_requires_grad(true);

  TrainingJob job;
  job.options = &o;
  job.corpus = &corpus;
  job.threads = runtime.threads();
  job.trainable = model.parameters();
  job.parameters = model.parameter_count();
  job.loss = [&](const at::Tensor& tokens, const at::Tensor& targets, bool sum) {
    return model.loss(tokens, targets, nullptr, sum);
  };
  job.fingerprint = common_fingerprint(o, corpus);
  job.fingerprint["kind"] = "base";
  job.fingerprint["model_config"] = to_json(config);
  job.fingerprint["tokenizer"] = file_identity(options.tokenizer);
  job.fingerprint["init_std"] = options.init_std;
  job.write_output = [&](const fs::path& staged) {
    write_hf_folder(staged, config, model.to_hf());
    write_tokenizer_files(options.tokenizer, *tokenizer, end_of_text, config, staged);
    json generation = {{"_from_model_config", true}, {"eos_token_id", config.eos_token_ids}};
    if (config.bos_token_id) generation["bos_token_id"] = *config.bos_token_id;
    write_text_file(staged / "generation_config.json", generation.dump(2) + "\n");
  };
  return run_training(job, progress);
}

}  // namespace qdgen::inference
