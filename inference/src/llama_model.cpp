// LlamaModel: picks the device and threads, loads the weights, and runs every pass in
// inference mode (no autograd bookkeeping).
#include <dlfcn.h>

#include <mutex>
#include <stdexcept>
#include <thread>

#include "batch_generation.hpp"
#include "llama_runtime.hpp"
#include "qdgen/inference/model.hpp"
#include "request_checks.hpp"

namespace qdgen::inference {
namespace {

at::Device pick_device(const std::string& name) {
  if (name == "cpu") return at::kCPU;
  if (name == "auto")
    return torch::cuda::is_available() ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  if (name == "cuda") {
    if (!torch::cuda::is_available()) {
      throw std::runtime_error("device 'cuda': no CUDA device is available to this libtorch");
    }
    return at::kCUDA;
  }
  throw std::runtime_error("device '" + name + "': expected auto, cpu or cuda");
}

// The model's CPU work runs on its own pool (CpuThreadPool) of `threads` threads. libtorch's
// OpenMP pool and OpenBLAS (the ATen path's products only) keep one thread each: idle OpenMP
// workers spin at their barrier, and on a shared 2-core machine a descheduled worker stalls the
// whole team (measured: OpenMP at 2 threads beside OpenBLAS at 2 made batch 32 4x slower;
// OpenMP alone at 2 under load spent 59 % spinning). That setting is the process's, made once
// and the same for every model. OpenBLAS is looked up at run time so that another BLAS behind
// libblas.so.3 still works.
RuntimeOptions runtime_options(const ModelOptions& options) {
  static std::once_flag single_threaded_libraries;
  std::call_once(single_threaded_libraries, [] {
    at::set_num_threads(1);
    using SetThreads = void (*)(int);
    if (auto set_blas =
            reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
      set_blas(1);
    }
  });
  RuntimeOptions runtime;
  runtime.kernels = choose_cpu_kernels(options.cpu_kernels);
  runtime.threads = options.threads > 0
                        ? options.threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  runtime.aten_forward = options.aten_forward;
  return runtime;
}

class EmbeddedLlama final : public LlamaModel {
 public:
  EmbeddedLlama(LlamaWeights weights, const RuntimeOptions& runtime,
                std::int64_t prefix_cache_bytes, const std::vector<LoraAdapter>& adapters)
      : runtime_(std::move(weights), runtime, adapters),
        engine_(runtime_, std::max<std::int64_t>(0, prefix_cache_bytes)) {}

  const LlamaConfig& config() const override { return runtime_.config(); }

  std::string device_name() const override {
    const bool cpu = runtime_.device().is_cpu();
    const at::ScalarType dtype = runtime_.dtype();
    const std::string type = dtype == at::kFloat      ? "float32"
                             : dtype == at::kBFloat16 ? "bfloat16"
                                                      : "float16";
    return std::string(cpu ? "cpu" : "cuda") + " (" + type +
           (cpu ? ", " + std::to_string(runtime_.threads()) + " threads, " +
                      cpu_kernels_name(runtime_.cpu_kernels()) + " kernels)"
                : ")");
  }

  const std::vector<std::string>& adapter_names() const override {
    return runtime_.adapter_names();
  }

  std::vector<float> forward_logits(std::span<const std::int32_t> ids,
                                    const LoraMixture& lora) override {
    const auto exclusive = engine_.exclusive();
    c10::InferenceMode guard;
    const LlamaConfig& c = config();
    if (ids.empty()) throw std::invalid_argument("forward_logits: no tokens");
    check_token_ids(c, ids, "forward_logits");
    runtime_.adapter_weights(lora, "forward_logits");  // refuses unknown names, naming the call
    refuse_prompt_relative(lora, "forward_logits");
    AdapterRows adapters(runtime_);
    adapters.add(lora);
    const auto length = static_cast<std::int64_t>(ids.size());
    if (length > c.max_position_embeddings) {
      throw std::invalid_argument("forward_logits: " + std::to_string(length) +
                                  " tokens, more than the model's context of " +
                                  std::to_string(c.max_position_embeddings));
    }
    KvCache cache = runtime_.make_cache(1, length);
    at::Tensor tokens = at::empty({1, length}, at::kLong);
    std::copy(ids.begin(), ids.end(), tokens.data_ptr<std::int64_t>());
    const at::Tensor logits =
        runtime_
            .logits(
                runtime_.forward(cache, tokens, 0, std::vector<std::int64_t>{0}, adapters.rows()))
            .contiguous();
    return {logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel()};
  }

  std::vector<TokenResult> generate(std::span<const TokenRequest> requests,
                                    const GenerationOptions& options,
                                    GenerationStats* stats) override {
    c10::InferenceMode guard;
    return engine_.generate(requests, options, stats);
  }

  std::vector<double> score(std::span<const std::int32_t> prompt,
                            std::span<const std::vector<std::int32_t>> continuations) override {
    c10::InferenceMode guard;
    return engine_.score(prompt, continuations);
  }

  std::vector<std::vector<float>> embed(std::span<const std::vector<std::int32_t>> texts,
                                        bool skip_first_token,
                                        std::span<const LoraMixture> mixtures) override {
    c10::InferenceMode guard;
    return engine_.embed(texts, skip_first_token, mixtures);
  }

  std::vector<std::vector<double>> score(std::span<const TokenScoreRequest> requests) override {
    return engine_.score(requests);
  }
  BatchEngine& batch_engine() override { return engine_; }

  PrefixCacheStats prefix_cache_stats() const override { return engine_.prefix_cache_stats(); }
  void clear_prefix_cache() override { engine_.clear_prefix_cache(); }

 private:
  LlamaRuntime runtime_;
  LlamaBatchEngine engine_;
};

at::ScalarType pick_dtype(at::Device device) {
  return device.is_cpu() ? at::kFloat : at::kBFloat16;
}

// The folder's name for a source without one ("runs/style/" is "style").
std::string adapter_name(const llm::AdapterSource& source) {
  if (!source.name.empty()) return source.name;
  const std::filesystem::path folder =
      source.path.filename().empty() ? source.path.parent_path() : source.path;
  return folder.filename().string();
}

// The options' adapters for a base of `config`: the folders first, read in order.
std::vector<LoraAdapter> load_adapters(const LlamaConfig& config, const ModelOptions& options) {
  std::vector<LoraAdapter> adapters;
  for (const llm::AdapterSource& source : options.adapter_folders) {
    adapters.push_back(read_peft_adapter(source.path, config, adapter_name(source)));
  }
  adapters.insert(adapters.end(), options.adapters.begin(), options.adapters.end());
  return adapters;
}

std::unique_ptr<LlamaModel> make_model(LlamaWeights weights, const ModelOptions& options) {
  const RuntimeOptions runtime = runtime_options(options);
  const std::vector<LoraAdapter> adapters = load_adapters(weights.config, options);
  return std::make_unique<EmbeddedLlama>(std::move(weights), runtime, options.prefix_cache_bytes,
                                         adapters);
}

}  // namespace

std::unique_ptr<LlamaModel> LlamaModel::load(const std::filesystem::path& path,
                                             const ModelOptions& options) {
  const at::Device device = pick_device(options.device);
  c10::InferenceMode guard;
  if (std::filesystem::is_directory(path)) {
    return make_model(load_hf_folder(path, device, pick_dtype(device)), options);
  }
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(path.string() +
                             ": no such model (expected a model folder or a llama2.c .bin)");
  }
  return make_model(load_llama2c_file(path, device, pick_dtype(device)), options);
}

std::unique_ptr<LlamaModel> LlamaModel::from_tensors(const LlamaConfig& config,
                                                     const std::vector<OwnedTensor>& tensors,
                                                     const ModelOptions& options) {
  const at::Device device = pick_device(options.device);
  c10::InferenceMode guard;
  return make_model(weights_from_owned(config, tensors, "tensors", device, pick_dtype(device)),
                    options);
}

}  // namespace qdgen::inference
