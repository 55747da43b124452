#include "request_checks.hpp"

#include <stdexcept>

#include "lora_mixture.hpp"

namespace qdgen::inference {

void check_token_ids(const LlamaConfig& config, std::span<const std::int32_t> ids,
                     const std::string& what) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= config.vocab_size) {
      throw std::invalid_argument(what + ": token id " + std::to_string(ids[i]) + " at position " +
                                  std::to_string(i) + " is outside the vocabulary [0, " +
                                  std::to_string(config.vocab_size) + ")");
    }
  }
}

void validate_requests(const LlamaConfig& config, std::span<const std::string> adapters,
                       std::span<const TokenRequest> requests, bool can_decode) {
  const std::int64_t context = config.max_position_embeddings;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const TokenRequest& r = requests[i];
    const std::string name = "request " + std::to_string(i);
    if (r.prompt.empty()) throw std::invalid_argument(name + ": the prompt has no tokens");
    if (static_cast<std::int64_t>(r.prompt.size()) > context) {
      throw std::invalid_argument(name + ": the prompt has " + std::to_string(r.prompt.size()) +
                                  " tokens, more than the model's context of " +
                                  std::to_string(context));
    }
    check_token_ids(config, r.prompt, name + " prompt");
    if (r.max_tokens < 0) throw std::invalid_argument(name + ": max_tokens must be >= 0");
    if (!(r.sampling.temperature >= 0)) {
      throw std::invalid_argument(name + ": temperature must be >= 0 (0 is greedy)");
    }
    if (r.sampling.top_k < 0) throw std::invalid_argument(name + ": top_k must be >= 0");
    if (!(r.sampling.top_p > 0 && r.sampling.top_p <= 1)) {
      throw std::invalid_argument(name + ": top_p must be in (0, 1]");
    }
    if (!r.stop.empty() && !can_decode) {
      throw std::invalid_argument(name + ": stop strings need a tokenizer to decode tokens");
    }
    for (const auto& stop : r.stop) {
      if (stop.empty()) throw std::invalid_argument(name + ": a stop string is empty");
    }
    mixture_weights(r.lora, adapters, config.num_hidden_layers, name);
  }
}

void validate_score_request(const LlamaConfig& config, std::span<const std::string> adapters,
                            const TokenScoreRequest& request, const std::string& name) {
  if (request.prompt.empty()) throw std::invalid_argument(name + ": the prompt has no tokens");
  check_token_ids(config, request.prompt, name + " prompt");
  const auto p = static_cast<std::int64_t>(request.prompt.size());
  for (std::size_t i = 0; i < request.continuations.size(); ++i) {
    const std::string continuation = name + " continuation " + std::to_string(i);
    const auto& tokens = request.continuations[i];
    if (tokens.empty()) throw std::invalid_argument(continuation + ": no tokens");
    check_token_ids(config, tokens, continuation);
    const auto length = static_cast<std::int64_t>(tokens.size());
    if (p + length > config.max_position_embeddings) {
      throw std::invalid_argument(continuation + ": prompt and continuation have " +
                                  std::to_string(p + length) +
                                  " tokens, more than the model's context of " +
                                  std::to_string(config.max_position_embeddings));
    }
  }
  mixture_weights(request.lora, adapters, config.num_hidden_layers, name);
}

}  // namespace qdgen::inference
