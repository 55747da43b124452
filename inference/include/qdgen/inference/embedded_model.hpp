#pragma once
// The in-process LanguageModel: a LlamaModel (model.hpp) plus its tokenizer. The qdgen
// binary reaches it through the embedded-model module (qdgen/llm/embedded_loader.hpp).

#include <memory>

#include "qdgen/inference/model.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "qdgen/llm/embedded_loader.hpp"
#include "qdgen/llm/language_model.hpp"

namespace qdgen::inference {

class EmbeddedLanguageModel final : public llm::LanguageModel {
 public:
  static std::unique_ptr<EmbeddedLanguageModel> load(const llm::EmbeddedModelOptions& options);
  EmbeddedLanguageModel(std::unique_ptr<LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
                        std::int64_t max_batch);

  std::string description() const override;
  std::vector<std::string> adapter_names() const override;
  std::vector<llm::Generation> generate(std::span<const llm::GenerationRequest> requests,
                                        llm::GenerationStats* stats = nullptr) override;
  std::vector<std::vector<llm::ContinuationScore>> score(
      std::span<const llm::ScoreRequest> requests) override;
  std::vector<std::vector<float>> embed(std::span<const llm::EmbedRequest> requests) override;

  LlamaModel& model() { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::int64_t max_batch_;
  std::vector<std::int32_t> eos_ids_;
};

}  // namespace qdgen::inference
