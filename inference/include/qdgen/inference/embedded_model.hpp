#pragma once
// The in-process LanguageModel: a LlamaModel (model.hpp) plus its tokenizer.

#include <filesystem>
#include <memory>

#include "qdgen/inference/language_model.hpp"
#include "qdgen/inference/model.hpp"
#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference {

struct EmbeddedModelOptions {
  std::filesystem::path model;      // a model folder or a llama2.c .bin
  std::filesystem::path tokenizer;  // empty: <model folder>/tokenizer.json (a .bin needs one)
  ModelOptions runtime;
  std::int64_t max_batch = 64;
};

class EmbeddedLanguageModel final : public LanguageModel {
 public:
  static std::unique_ptr<EmbeddedLanguageModel> load(const EmbeddedModelOptions& options);
  EmbeddedLanguageModel(std::unique_ptr<LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
                        std::int64_t max_batch);

  std::vector<Generation> generate(std::span<const GenerationRequest> requests,
                                   GenerationStats* stats = nullptr) override;
  std::vector<double> score(const std::string& prompt,
                            std::span<const std::string> continuations) override;
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override;

  LlamaModel& model() { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::int64_t max_batch_;
  std::vector<std::int32_t> eos_ids_;
};

}  // namespace qdgen::inference
