// The text layer over LlamaModel: tokenizes prompts, decodes results, trims stop strings.
#include "qdgen/inference/embedded_model.hpp"

#include <algorithm>
#include <stdexcept>

namespace qdgen::inference {
namespace {

std::filesystem::path tokenizer_path(const EmbeddedModelOptions& options) {
  if (!options.tokenizer.empty()) return options.tokenizer;
  if (std::filesystem::is_directory(options.model)) return options.model / "tokenizer.json";
  throw std::runtime_error(options.model.string() +
                           ": a llama2.c checkpoint needs a tokenizer (tokenizer.bin)");
}

}  // namespace

std::unique_ptr<EmbeddedLanguageModel> EmbeddedLanguageModel::load(
    const EmbeddedModelOptions& options) {
  const auto tokenizer_file = tokenizer_path(options);
  if (!std::filesystem::exists(tokenizer_file)) {
    throw std::runtime_error(tokenizer_file.string() + ": no such tokenizer file");
  }
  auto tokenizer = load_tokenizer(tokenizer_file);
  auto model = LlamaModel::load(options.model, options.runtime);
  return std::make_unique<EmbeddedLanguageModel>(std::move(model), std::move(tokenizer),
                                                 options.max_batch);
}

EmbeddedLanguageModel::EmbeddedLanguageModel(std::unique_ptr<LlamaModel> model,
                                             std::unique_ptr<Tokenizer> tokenizer,
                                             std::int64_t max_batch)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), max_batch_(max_batch) {
  for (const std::int64_t id : model_->config().eos_token_ids) {
    eos_ids_.push_back(static_cast<std::int32_t>(id));
  }
  if (eos_ids_.empty() && tokenizer_->eos_id()) eos_ids_.push_back(*tokenizer_->eos_id());
}

std::vector<Generation> EmbeddedLanguageModel::generate(std::span<const GenerationRequest> requests,
                                                        GenerationStats* stats) {
  std::vector<TokenRequest> token_requests;
  for (const GenerationRequest& request : requests) {
    TokenRequest token_request;
    token_request.prompt =
        request.prompt_ids.empty() ? tokenizer_->encode(request.prompt, true) : request.prompt_ids;
    token_request.max_tokens = request.max_tokens;
    token_request.sampling = request.sampling;
    token_request.stop_at_eos = request.stop_at_eos;
    token_request.stop = request.stop;
    token_request.lora = request.lora;
    token_requests.push_back(std::move(token_request));
  }
  GenerationOptions options;
  options.max_batch = max_batch_;
  options.eos_token_ids = eos_ids_;
  options.decode = [this](std::span<const std::int32_t> ids) {
    return tokenizer_->decode(ids, true);
  };
  const auto results = model_->generate(token_requests, options, stats);

  std::vector<Generation> generations;
  for (std::size_t i = 0; i < results.size(); ++i) {
    Generation generation;
    generation.tokens = results[i].tokens;
    generation.finish = results[i].finish;
    generation.prompt_tokens = static_cast<std::int64_t>(token_requests[i].prompt.size());
    generation.text = tokenizer_->decode(generation.tokens, true);
    if (generation.finish == FinishReason::kStop) {
      std::size_t cut = generation.text.size();
      for (const auto& stop : requests[i].stop) cut = std::min(cut, generation.text.find(stop));
      generation.text.resize(cut);
    }
    generations.push_back(std::move(generation));
  }
  return generations;
}

std::vector<double> EmbeddedLanguageModel::score(const std::string& prompt,
                                                 std::span<const std::string> continuations) {
  // A continuation's tokens are those the joint text adds after the prompt's, so that word
  // boundaries tokenize as they would in running text; separate encoding is the fallback
  // when the joint tokenization does not start with the prompt's.
  const auto prompt_ids = tokenizer_->encode(prompt, true);
  std::vector<std::vector<std::int32_t>> continuation_ids;
  for (const std::string& continuation : continuations) {
    const auto joint = tokenizer_->encode(prompt + continuation, true);
    if (joint.size() > prompt_ids.size() &&
        std::equal(prompt_ids.begin(), prompt_ids.end(), joint.begin())) {
      continuation_ids.emplace_back(joint.begin() + static_cast<std::ptrdiff_t>(prompt_ids.size()),
                                    joint.end());
    } else {
      continuation_ids.push_back(tokenizer_->encode(continuation, false));
    }
  }
  return model_->score(prompt_ids, continuation_ids);
}

std::vector<std::vector<float>> EmbeddedLanguageModel::embed(std::span<const std::string> texts) {
  // A BOS (when the tokenizer has one) gives every text the context the model was trained
  // with, but is the same for every text, so it is not pooled.
  const auto bos = tokenizer_->bos_id();
  std::vector<std::vector<std::int32_t>> ids;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto encoded = tokenizer_->encode(texts[i], false);
    if (encoded.empty())
      throw std::invalid_argument("embed text " + std::to_string(i) + " is empty");
    if (bos) encoded.insert(encoded.begin(), *bos);
    ids.push_back(std::move(encoded));
  }
  return model_->embed(ids, bos.has_value());
}

}  // namespace qdgen::inference
