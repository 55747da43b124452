#pragma once
// What train_base and train_lora both check and build before the loop: the options, the
// tokenizer against the model config, the corpus, and the fingerprint of the run.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/model_config.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "qdgen/inference/training.hpp"
#include "training_corpus.hpp"

namespace qdgen::inference::training {

// A Hugging Face folder's weights as f32 tensors (Hugging Face names and layout).
std::vector<OwnedTensor> read_hf_weights(const HfModelFolder& folder);

// Resolves the defaults (context 0, warm-up -1) against `config` and checks every setting,
// naming the option at fault.
TrainingOptions resolve_options(const TrainingOptions& options, const LlamaConfig& config);

// Loads the tokenizer and checks that its vocabulary fits the config's embedding.
std::unique_ptr<Tokenizer> load_fitting_tokenizer(const std::filesystem::path& tokenizer,
                                                  const LlamaConfig& config,
                                                  const std::string& config_source);

// The token written after every document: the tokenizer's end-of-text / eos token.
TokenId end_of_text_token(const Tokenizer& tokenizer, const std::filesystem::path& file);

TrainingCorpus read_corpus(const TrainingOptions& options, const Tokenizer& tokenizer,
                           TokenId end_of_text);

// The settings that decide the weights, shared by both kinds of run.
nlohmann::json common_fingerprint(const TrainingOptions& options, const TrainingCorpus& corpus);
nlohmann::json file_identity(const std::filesystem::path& path);  // absolute path and size

}  // namespace qdgen::inference::training
