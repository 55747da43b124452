#include "embedding_pass.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "lora_mixture.hpp"
#include "request_checks.hpp"

namespace qdgen::inference {

std::vector<std::vector<float>> embed_sequences(const LlamaRuntime& runtime,
                                                std::span<const std::vector<std::int32_t>> texts,
                                                bool skip_first_token,
                                                std::span<const LoraMixture> mixtures) {
  const LlamaConfig& config = runtime.config();
  if (!mixtures.empty() && mixtures.size() != texts.size()) {
    throw std::logic_error("embed_sequences: a mixture per text, or none");
  }
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string name = "embed text " + std::to_string(i);
    if (!mixtures.empty()) {
      runtime.adapter_weights(mixtures[i], name);
      refuse_prompt_relative(mixtures[i], name);
    }
    if (texts[i].size() <= (skip_first_token ? 1u : 0u)) {
      throw std::invalid_argument(name + ": no tokens to pool");
    }
    check_token_ids(config, texts[i], name);
    const auto length = static_cast<std::int64_t>(texts[i].size());
    if (length > config.max_position_embeddings) {
      throw std::invalid_argument(name + ": " + std::to_string(length) +
                                  " tokens, more than the model's context of " +
                                  std::to_string(config.max_position_embeddings));
    }
    longest = std::max(longest, length);
  }
  std::vector<std::vector<float>> vectors;
  if (texts.empty()) return vectors;
  const std::int64_t chunk = std::clamp<std::int64_t>(2048 / longest, 1, 64);
  KvCache cache = runtime.make_cache(
      std::min<std::int64_t>(chunk, static_cast<std::int64_t>(texts.size())), longest);
  for (std::size_t begin = 0; begin < texts.size(); begin += static_cast<std::size_t>(chunk)) {
    const std::size_t end = std::min(texts.size(), begin + static_cast<std::size_t>(chunk));
    const auto rows = static_cast<std::int64_t>(end - begin);
    std::int64_t steps = 0;
    for (std::size_t i = begin; i < end; ++i)
      steps = std::max(steps, static_cast<std::int64_t>(texts[i].size()));
    at::Tensor tokens = at::zeros({rows, steps}, at::kLong);
    at::Tensor weights = at::zeros({rows, steps, 1}, at::kFloat);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto& text = texts[begin + r];
      const auto length = static_cast<std::int64_t>(text.size());
      std::copy(text.begin(), text.end(), tokens.data_ptr<std::int64_t>() + r * steps);
      const std::int64_t skip = skip_first_token ? 1 : 0;
      weights[r].narrow(0, skip, length - skip).fill_(1.0 / static_cast<double>(length - skip));
    }
    AdapterRows adapters(runtime);
    for (std::size_t i = begin; i < end; ++i)
      adapters.add(mixtures.empty() ? LoraMixture{} : mixtures[i]);
    const at::Tensor hidden =
        runtime.forward(cache, tokens, 0, std::vector<std::int64_t>(rows, 0), adapters.rows())
            .to(at::kFloat)
            .cpu();
    const at::Tensor mean = (hidden * weights).sum(1);
    const at::Tensor unit = (mean / mean.norm(2, -1, true).clamp_min(1e-12)).contiguous();
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* row = unit.data_ptr<float>() + r * config.hidden_size;
      vectors.emplace_back(row, row + config.hidden_size);
    }
  }
  return vectors;
}

}  // namespace qdgen::inference
