#include "qdgen/llm/language_model.hpp"

namespace qdgen::llm {

std::vector<double> LanguageModel::score_continuations(const std::string& prompt,
                                                       std::span<const std::string> continuations) {
  ScoreRequest request;
  request.prompt = prompt;
  request.continuations.assign(continuations.begin(), continuations.end());
  const auto results = score(std::span<const ScoreRequest>(&request, 1));
  std::vector<double> logprobs;
  logprobs.reserve(continuations.size());
  for (const ContinuationScore& s : results.at(0)) logprobs.push_back(s.logprob);
  return logprobs;
}

std::vector<std::vector<float>> LanguageModel::embed_texts(std::span<const std::string> texts) {
  std::vector<EmbedRequest> requests;
  requests.reserve(texts.size());
  for (const std::string& text : texts) requests.push_back({text, {}});
  return embed(std::span<const EmbedRequest>(requests));
}

}  // namespace qdgen::llm
