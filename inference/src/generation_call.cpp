#include "generation_call.hpp"

#include <algorithm>

#include "lora_mixture.hpp"
#include "prefix_sharing.hpp"

namespace qdgen::inference {

GenerationCall::GenerationCall(const LlamaRuntime& runtime, std::span<const TokenRequest> list,
                               const GenerationOptions& generation_options)
    : config(runtime.config()),
      requests(list.begin(), list.end()),
      options(generation_options),
      min_prefix(std::max<std::int64_t>(1, generation_options.min_shared_prefix)),
      own_prefixes(runtime, -1),
      results(list.size()),
      ended(list.size(), false) {
  std::vector<std::vector<std::int32_t>> prompts;
  std::vector<LoraMixture> mixtures;
  for (TokenRequest& request : requests) {
    request.lora = resolved_mixture(std::move(request.lora), request.prompt.size());
    prompts.push_back(request.prompt);
    mixtures.push_back(request.lora);
  }
  shared_prefix = shared_prefix_lengths(prompts, mixtures, static_cast<std::size_t>(min_prefix));
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].max_tokens == 0) {
      ended[i] = true;
    } else {
      ++unended;
    }
  }
}

std::int64_t GenerationCall::positions_needed(std::size_t request) const {
  const TokenRequest& r = requests[request];
  return std::min(config.max_position_embeddings,
                  static_cast<std::int64_t>(r.prompt.size()) + r.max_tokens - 1);
}

bool GenerationCall::is_eos(std::int32_t token) const {
  if (!options.eos_token_ids.empty()) {
    return std::find(options.eos_token_ids.begin(), options.eos_token_ids.end(), token) !=
           options.eos_token_ids.end();
  }
  const auto& ids = config.eos_token_ids;
  return std::find(ids.begin(), ids.end(), static_cast<std::int64_t>(token)) != ids.end();
}

}  // namespace qdgen::inference
