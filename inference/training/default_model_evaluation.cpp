#include "default_model_evaluation.hpp"

#include <limits>

#include "heldout_loss.hpp"
#include "llama_trainable.hpp"
#include "qdgen/inference/corpus.hpp"
#include "qdgen/inference/hf_folder.hpp"
#include "qdgen/inference/lora_adapter.hpp"
#include "training_corpus.hpp"
#include "training_setup.hpp"

namespace qdgen::inference::training {

namespace fs = std::filesystem;
using nlohmann::json;

json evaluate_experts(const fs::path& folder, const DefaultModelPlan& plan, std::int64_t batch) {
  const DefaultModelRecipe& r = plan.recipe;
  const HfModelFolder base = open_hf_folder(folder / "base");
  LlamaTrainable model(base.config);
  model.load_hf(read_hf_weights(base));
  const fs::path tokenizer_file = folder / "base" / "tokenizer.json";
  const auto tokenizer = load_tokenizer(tokenizer_file);
  const TokenId end_of_text = end_of_text_token(*tokenizer, tokenizer_file);
  std::vector<std::pair<std::string, LoraWeights>> experts;
  for (const auto& [name, file] : plan.categories) {
    experts.emplace_back(name, LoraWeights(base.config, read_peft_adapter(folder / "experts" / name,
                                                                          base.config, name)));
  }

  json table = {{"unit", "mean held-out log-likelihood per token (nats)"},
                {"categories", json::array()},
                {"heldout_tokens", json::object()},
                {"base", json::object()},
                {"experts", json::object()},
                {"own_expert_best", json::object()}};
  for (const auto& [name, file] : plan.categories) {
    const fs::path files[] = {file};
    const TrainingCorpus corpus(read_corpus(files, CorpusFormat::kAuto), *tokenizer, end_of_text,
                                {r.context, r.heldout_fraction}, file.string());
    const auto windows = corpus.heldout_windows(std::numeric_limits<std::int64_t>::max());
    const auto likelihood = [&](const LoraWeights* lora) {
      return -mean_window_loss(corpus.heldout_tokens(), windows, batch,
                               [&](const at::Tensor& tokens, const at::Tensor& targets, bool sum) {
                                 return model.loss(tokens, targets, lora, sum);
                               });
    };
    table["categories"].push_back(name);
    std::int64_t predicted = 0;
    for (const auto& w : windows) predicted += w.second - w.first - 1;
    table["heldout_tokens"][name] = predicted;
    const double base_ll = likelihood(nullptr);
    table["base"][name] = base_ll;
    double best_other = -std::numeric_limits<double>::infinity();
    double own = 0;
    for (const auto& [expert, weights] : experts) {
      const double ll = likelihood(&weights);
      table["experts"][expert][name] = ll;
      if (expert == name) {
        own = ll;
      } else {
        best_other = std::max(best_other, ll);
      }
    }
    table["own_expert_best"][name] = own > base_ll && own > best_other;
  }
  return table;
}

}  // namespace qdgen::inference::training
