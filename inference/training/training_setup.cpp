#include "training_setup.hpp"

#include <algorithm>
#include <stdexcept>

#include "qdgen/inference/corpus.hpp"

namespace qdgen::inference::training {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void bad_option(const std::string& option, const std::string& value,
                             const std::string& expected) {
  throw std::runtime_error(option + " " + value + ": expected " + expected);
}

std::string number(double value) {
  json j = value;
  return j.dump();
}

}  // namespace

std::vector<OwnedTensor> read_hf_weights(const HfModelFolder& folder) {
  std::vector<OwnedTensor> tensors;
  for (const TensorSpec& spec : llama_tensor_specs(folder.config)) {
    const TensorView* view = folder.weights->find(spec.name);
    OwnedTensor tensor{spec.name, spec.shape,
                       std::vector<float>(static_cast<std::size_t>(view->numel()))};
    convert_to_f32(*view, tensor.data);
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

TrainingOptions resolve_options(const TrainingOptions& options, const LlamaConfig& config) {
  TrainingOptions o = options;
  if (o.data.empty()) throw std::runtime_error("--data: give at least one corpus file");
  if (o.steps < 1) bad_option("--steps", std::to_string(o.steps), "at least 1");
  if (o.batch < 1) bad_option("--batch", std::to_string(o.batch), "at least 1");
  if (o.context == 0) o.context = std::min<std::int64_t>(256, config.max_position_embeddings);
  if (o.context < 1 || o.context > config.max_position_embeddings) {
    bad_option("--context", std::to_string(o.context),
               "1 to the model's max_position_embeddings (" +
                   std::to_string(config.max_position_embeddings) + ")");
  }
  if (o.warmup_steps < 0) o.warmup_steps = o.steps / 20;
  if (o.warmup_steps > o.steps) {
    bad_option("--warmup", std::to_string(o.warmup_steps), "at most --steps");
  }
  if (!(o.learning_rate > 0)) bad_option("--lr", number(o.learning_rate), "a positive number");
  if (!(o.min_learning_rate_ratio >= 0 && o.min_learning_rate_ratio <= 1)) {
    bad_option("--min-lr-ratio", number(o.min_learning_rate_ratio), "a number in [0, 1]");
  }
  if (!(o.weight_decay >= 0)) bad_option("--weight-decay", number(o.weight_decay), ">= 0");
  if (!(o.beta1 >= 0 && o.beta1 < 1)) bad_option("--beta1", number(o.beta1), "a number in [0, 1)");
  if (!(o.beta2 >= 0 && o.beta2 < 1)) bad_option("--beta2", number(o.beta2), "a number in [0, 1)");
  if (!(o.adam_epsilon > 0)) bad_option("--adam-epsilon", number(o.adam_epsilon), "> 0");
  if (!(o.gradient_clip >= 0)) bad_option("--clip", number(o.gradient_clip), ">= 0 (0: none)");
  if (!(o.heldout_fraction >= 0 && o.heldout_fraction < 1)) {
    bad_option("--heldout", number(o.heldout_fraction), "a fraction in [0, 1)");
  }
  if (o.eval_every < 0) bad_option("--eval-every", std::to_string(o.eval_every), ">= 0");
  if (o.eval_windows < 1) bad_option("--eval-windows", std::to_string(o.eval_windows), ">= 1");
  if (o.checkpoint_every < 0) {
    bad_option("--checkpoint-every", std::to_string(o.checkpoint_every), ">= 0");
  }
  if (o.threads < 0) bad_option("--threads", std::to_string(o.threads), ">= 0 (0: all cores)");
  return o;
}

std::unique_ptr<Tokenizer> load_fitting_tokenizer(const fs::path& tokenizer,
                                                  const LlamaConfig& config,
                                                  const std::string& config_source) {
  auto loaded = load_tokenizer(tokenizer);
  if (static_cast<std::int64_t>(loaded->vocab_size()) > config.vocab_size) {
    throw std::runtime_error(
        tokenizer.string() + ": the tokenizer has " + std::to_string(loaded->vocab_size()) +
        " tokens, more than the vocab_size " + std::to_string(config.vocab_size) + " of " +
        config_source + " (expected a vocab_size of at least " +
        std::to_string(loaded->vocab_size()) + ")");
  }
  return loaded;
}

TokenId end_of_text_token(const Tokenizer& tokenizer, const fs::path& file) {
  if (const auto eos = tokenizer.eos_id()) return *eos;
  throw std::runtime_error(
      file.string() +
      ": the tokenizer has no end-of-text token to put between documents "
      "(expected <|endoftext|>, </s> or an eos_token in tokenizer_config.json)");
}

TrainingCorpus read_corpus(const TrainingOptions& options, const Tokenizer& tokenizer,
                           TokenId end_of_text) {
  std::string sources;
  for (const fs::path& file : options.data)
    sources += (sources.empty() ? "" : ", ") + file.string();
  const auto files = expand_corpus_inputs(options.data);
  if (files.empty()) throw std::runtime_error(sources + ": no corpus files in it");
  const auto documents = inference::read_corpus(files, CorpusFormat::kAuto);
  return TrainingCorpus(documents, tokenizer, end_of_text,
                        {options.context, options.heldout_fraction}, sources);
}

json file_identity(const fs::path& path) {
  std::error_code error;
  const auto size = fs::is_regular_file(path, error) ? fs::file_size(path, error) : 0;
  return {{"path", fs::absolute(path).lexically_normal().string()}, {"bytes", size}};
}

json common_fingerprint(const TrainingOptions& o, const TrainingCorpus& corpus) {
  json data = json::array();
  for (const fs::path& file : o.data) data.push_back(file_identity(file));
  return {{"data", data},
          {"train_tokens", corpus.train_tokens().size()},
          {"heldout_tokens", corpus.heldout_tokens().size()},
          {"steps", o.steps},
          {"batch", o.batch},
          {"context", o.context},
          {"learning_rate", o.learning_rate},
          {"min_learning_rate_ratio", o.min_learning_rate_ratio},
          {"warmup_steps", o.warmup_steps},
          {"weight_decay", o.weight_decay},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"adam_epsilon", o.adam_epsilon},
          {"gradient_clip", o.gradient_clip},
          {"seed", o.seed},
          {"heldout_fraction", o.heldout_fraction}};
}

}  // namespace qdgen::inference::training
