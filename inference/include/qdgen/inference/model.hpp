#pragma once
// The embedded Llama-family decoder (libtorch inside, none of it in this header): loads a
// Hugging Face folder (config.json + safetensors) or a llama2.c .bin and runs generation,
// scoring and embeddings on token ids. Text goes through LanguageModel (language_model.hpp).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qdgen/inference/batch_engine.hpp"
#include "qdgen/inference/generation.hpp"
#include "qdgen/inference/llama2c.hpp"
#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/model_config.hpp"
#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::inference {

struct ModelOptions {
  std::string device = "auto";  // "auto" (CUDA when available), "cpu", "cuda"
  int threads = 0;              // threads of the model's own CPU pool; 0: all cores
  // Memory for the KV of prompt prefixes kept across calls (least recently used evicted
  // first); 0 keeps none beyond each call.
  std::int64_t prefix_cache_bytes = std::int64_t{256} << 20;
  // CPU kernel set: "auto" (the widest this CPU has), "avx512", "avx2" or "portable"; an unknown
  // name, or a set the CPU lacks, is refused when the model loads.
  std::string cpu_kernels = "auto";
  // On the CPU, the ATen operations that CUDA runs instead of qdgen's kernels (to test that
  // path on a machine without a GPU).
  bool aten_forward = false;
  // LoRA experts applied unmerged, each request with its own mixture of them (by name): PEFT
  // folders, read and checked against the base once it is loaded (a source without a name
  // takes its folder's), then `adapters` as given.
  std::vector<llm::AdapterSource> adapter_folders = {};
  std::vector<LoraAdapter> adapters = {};
};

// The prefix cache: prompts' KV kept across generate() and score() calls, keyed by their
// exact token ids, so that a template or judge instruction seen before is not recomputed.
struct PrefixCacheStats {
  std::int64_t entries = 0;
  std::int64_t tokens = 0;  // positions held, over all entries
  std::int64_t bytes = 0;
  std::int64_t capacity_bytes = 0;
  std::int64_t reused_tokens = 0;  // prompt positions served from kept entries, since load
};

struct GenerationOptions {
  std::int64_t max_batch = 64;         // sequences decoded together
  std::int64_t min_shared_prefix = 4;  // shortest common prompt prefix worth sharing
  // Text of generated tokens, for stop strings; required when a request has any.
  std::function<std::string(std::span<const std::int32_t>)> decode;
  std::vector<std::int32_t> eos_token_ids;  // empty: the model config's
};

// Every method may be called from any thread: generate() calls join one continuous batch, and
// the other passes take turns with its steps (one pass at a time). The model must outlive the
// calls in flight.
class LlamaModel {
 public:
  // `path`: a folder with config.json and model.safetensors (or shards), or a llama2.c .bin.
  static std::unique_ptr<LlamaModel> load(const std::filesystem::path& path,
                                          const ModelOptions& options = {});
  // Weights in Hugging Face names and layout (what read_llama2c returns), e.g. for tests.
  static std::unique_ptr<LlamaModel> from_tensors(const LlamaConfig& config,
                                                  const std::vector<OwnedTensor>& tensors,
                                                  const ModelOptions& options = {});
  virtual ~LlamaModel() = default;

  virtual const LlamaConfig& config() const = 0;
  virtual std::string device_name() const = 0;  // e.g. "cpu (float32, 2 threads)"
  // The LoRA adapters loaded, in load order: the names mixtures may use.
  virtual const std::vector<std::string>& adapter_names() const = 0;

  // Logits of every position by full recomputation (no cache), read under `lora`:
  // ids.size() rows of vocab_size.
  virtual std::vector<float> forward_logits(std::span<const std::int32_t> ids,
                                            const LoraMixture& lora = {}) = 0;

  // Every call, from any thread, joins the one continuous batch (batch_engine()): this is
  // batch_engine().wait(batch_engine().submit(requests, options), stats).
  virtual std::vector<TokenResult> generate(std::span<const TokenRequest> requests,
                                            const GenerationOptions& options = {},
                                            GenerationStats* stats = nullptr) = 0;
  virtual BatchEngine& batch_engine() = 0;
  // Sum of log P(continuation token | everything before it) per continuation; the prompt is
  // computed once. Every continuation must be non-empty.
  virtual std::vector<double> score(std::span<const std::int32_t> prompt,
                                    std::span<const std::vector<std::int32_t>> continuations) = 0;
  // Many prompts in one call (a judge's whole iteration): result[i][j] is continuation j of
  // request i, as the call above gives it for request i alone. Prompts that share a prefix
  // compute it once; continuations of different prompts share forward passes.
  virtual std::vector<std::vector<double>> score(std::span<const TokenScoreRequest> requests) = 0;
  // Mean of the final (normalised) hidden states over each text's tokens, L2-normalised;
  // with skip_first_token the first token (a BOS, say) is context only, not pooled. Text i
  // is read under mixtures[i]; no mixtures: the base model for every text.
  virtual std::vector<std::vector<float>> embed(std::span<const std::vector<std::int32_t>> texts,
                                                bool skip_first_token = false,
                                                std::span<const LoraMixture> mixtures = {}) = 0;

  virtual PrefixCacheStats prefix_cache_stats() const = 0;
  virtual void clear_prefix_cache() = 0;
};

}  // namespace qdgen::inference
