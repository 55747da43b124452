// The text layer over LlamaModel: tokenizes prompts, decodes results, trims stop strings,
// streams text. Concurrent calls need nothing here: the model's batch engine joins them.
#include "qdgen/inference/embedded_model.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "qdgen/io/utf8.hpp"
#include "text_stream.hpp"

namespace qdgen::inference {
namespace {

std::filesystem::path tokenizer_path(const llm::EmbeddedModelOptions& options) {
  if (!options.tokenizer.empty()) return options.tokenizer;
  if (std::filesystem::is_directory(options.model)) return options.model / "tokenizer.json";
  throw std::runtime_error(options.model.string() +
                           ": a llama2.c checkpoint needs a tokenizer (tokenizer.bin)");
}

}  // namespace

std::unique_ptr<EmbeddedLanguageModel> EmbeddedLanguageModel::load(
    const llm::EmbeddedModelOptions& options) {
  const auto tokenizer_file = tokenizer_path(options);
  if (!std::filesystem::exists(tokenizer_file)) {
    throw std::runtime_error(tokenizer_file.string() + ": no such tokenizer file");
  }
  auto tokenizer = load_tokenizer(tokenizer_file);
  ModelOptions runtime;
  runtime.device = options.device;
  runtime.threads = options.threads;
  runtime.prefix_cache_bytes = options.prefix_cache_bytes;
  runtime.cpu_kernels = options.cpu_kernels;
  runtime.aten_forward = options.aten_forward;
  runtime.adapter_folders = options.adapters;
  auto model = LlamaModel::load(options.model, runtime);
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

std::string EmbeddedLanguageModel::description() const {
  return model_->device_name();
}

std::vector<std::string> EmbeddedLanguageModel::adapter_names() const {
  return model_->adapter_names();
}

std::vector<llm::Generation> EmbeddedLanguageModel::generate(
    std::span<const llm::GenerationRequest> requests, llm::GenerationStats* stats) {
  std::vector<TokenRequest> token_requests;
  // Streams live until the model has returned: it calls them no later.
  std::vector<std::unique_ptr<TextStream>> streams;
  for (const llm::GenerationRequest& request : requests) {
    TokenRequest token_request;
    token_request.prompt =
        request.prompt_ids.empty() ? tokenizer_->encode(request.prompt, true) : request.prompt_ids;
    token_request.max_tokens = request.max_tokens;
    token_request.sampling = request.sampling;
    token_request.stop_at_eos = request.stop_at_eos;
    token_request.stop = request.stop;
    token_request.lora = request.lora;
    if (request.on_token) {
      auto& stream = streams.emplace_back(
          std::make_unique<TextStream>(*tokenizer_, request.stop, request.on_token));
      token_request.on_tokens = [stream = stream.get()](const TokenStep& step) {
        return stream->on_step(step);
      };
    }
    token_requests.push_back(std::move(token_request));
  }
  GenerationOptions options;
  options.max_batch = max_batch_;
  options.eos_token_ids = eos_ids_;
  options.decode = [this](std::span<const std::int32_t> ids) {
    return tokenizer_->decode(ids, true);
  };
  const auto results = model_->generate(token_requests, options, stats);

  std::vector<llm::Generation> generations;
  for (std::size_t i = 0; i < results.size(); ++i) {
    llm::Generation generation;
    generation.tokens = results[i].tokens;
    generation.finish = results[i].finish;
    generation.prompt_tokens = static_cast<std::int64_t>(token_requests[i].prompt.size());
    // Byte-level tokens can end mid-character: the text is valid UTF-8, the ids exact.
    generation.text = io::valid_utf8(tokenizer_->decode(generation.tokens, true));
    if (generation.finish == FinishReason::kStop) {
      std::size_t cut = generation.text.size();
      for (const auto& stop : requests[i].stop) cut = std::min(cut, generation.text.find(stop));
      generation.text.resize(cut);
    }
    generations.push_back(std::move(generation));
  }
  return generations;
}

// One batched model call for every request: prompts that share a prefix compute it once, and
// continuations of different prompts share forward passes.
std::vector<std::vector<llm::ContinuationScore>> EmbeddedLanguageModel::score(
    std::span<const llm::ScoreRequest> requests) {
  std::vector<TokenScoreRequest> token_requests;
  token_requests.reserve(requests.size());
  for (std::size_t r = 0; r < requests.size(); ++r) {
    const llm::ScoreRequest& request = requests[r];
    // A continuation's tokens are those the joint text adds after the prompt's, so that word
    // boundaries tokenize as they would in running text; separate encoding is the fallback
    // when the joint tokenization does not start with the prompt's.
    TokenScoreRequest& tokens = token_requests.emplace_back();
    tokens.prompt = tokenizer_->encode(request.prompt, true);
    tokens.lora = request.lora;
    const auto& prompt_ids = tokens.prompt;
    for (const std::string& continuation : request.continuations) {
      const auto joint = tokenizer_->encode(request.prompt + continuation, true);
      if (joint.size() > prompt_ids.size() &&
          std::equal(prompt_ids.begin(), prompt_ids.end(), joint.begin())) {
        tokens.continuations.emplace_back(
            joint.begin() + static_cast<std::ptrdiff_t>(prompt_ids.size()), joint.end());
      } else {
        tokens.continuations.push_back(tokenizer_->encode(continuation, false));
      }
    }
  }
  const auto logprobs = model_->score(std::span<const TokenScoreRequest>(token_requests));
  std::vector<std::vector<llm::ContinuationScore>> results;
  results.reserve(requests.size());
  for (std::size_t r = 0; r < requests.size(); ++r) {
    std::vector<llm::ContinuationScore> scores;
    for (std::size_t c = 0; c < logprobs[r].size(); ++c) {
      scores.push_back(
          {logprobs[r][c], static_cast<std::int64_t>(token_requests[r].continuations[c].size())});
    }
    results.push_back(std::move(scores));
  }
  return results;
}

std::vector<std::vector<float>> EmbeddedLanguageModel::embed(
    std::span<const llm::EmbedRequest> requests) {
  // A BOS (when the tokenizer has one) gives every text the context the model was trained
  // with, but is the same for every text, so it is not pooled.
  const auto bos = tokenizer_->bos_id();
  std::vector<std::vector<std::int32_t>> ids;
  std::vector<LoraMixture> mixtures;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    mixtures.push_back(requests[i].lora);
    auto encoded = tokenizer_->encode(requests[i].text, false);
    if (encoded.empty())
      throw std::invalid_argument("embed text " + std::to_string(i) + " is empty");
    if (bos) encoded.insert(encoded.begin(), *bos);
    ids.push_back(std::move(encoded));
  }
  return model_->embed(ids, bos.has_value(), mixtures);
}

}  // namespace qdgen::inference
