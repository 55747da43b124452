#include "model_flags.hpp"

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "adapter_flags.hpp"
#include "qdgen/inference/default_model.hpp"
#include "qdgen/llm/embedded_loader.hpp"

namespace qdgen::cli {

// The module is installed beside the binary.
std::filesystem::path embedded_module_path() {
  if (const char* named = std::getenv("QDGEN_EMBEDDED_MODULE"); named && *named) return named;
  std::array<char, 4096> self{};
  const ssize_t length = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (length <= 0) throw std::runtime_error("cannot find the qdgen binary (/proc/self/exe)");
  return std::filesystem::path(std::string(self.data(), static_cast<std::size_t>(length)))
             .parent_path() /
         "qdgen-embedded.so";
}

// "default": the base of the cached default model (qdgen model build-default); a folder
// named default is ./default.
std::string resolve_model_path(const std::string& model) {
  if (model != "default") return model;
  const auto plan =
      inference::plan_default_model(inference::default_model_sources_from_environment());
  const auto state = inference::check_default_model(plan);
  if (!state.ready) {
    throw std::runtime_error("--model default: the default model in " + plan.folder.string() +
                             " is " + (state.problem == "not built yet" ? "" : "damaged: ") +
                             state.problem + " (run qdgen model build-default)");
  }
  return (plan.folder / "base").string();
}

void add_model_flags(CLI::App* command, ModelFlags& flags) {
  command
      ->add_option(
          "--model", flags.model,
          "model folder (config.json, safetensors, tokenizer.json), llama2.c .bin, or default "
          "(qdgen model build-default's base)")
      ->required();
  command->add_option("--tokenizer", flags.tokenizer,
                      "tokenizer.json or llama2.c tokenizer.bin (default: the folder's)");
  command->add_option("--device", flags.device, "auto, cpu or cuda")->capture_default_str();
  command->add_option("--threads", flags.threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  command->add_option("--adapter", flags.adapters,
                      "LoRA adapter folder (PEFT), DIR or NAME=DIR (repeatable), applied unmerged");
  command->add_option("--mixture", flags.mixture,
                      "adapter weights W1,W2,... in --adapter order (default: all 1)");
  command->add_option("--mixture-file", flags.mixture_file,
                      "adapter weights as JSON {\"NAME\": W, or [W per layer]} naming every "
                      "--adapter (instead of --mixture)");
  command
      ->add_option("--mixture-from", flags.mixture_from,
                   "the mixture applies to tokens at positions >= POS only, the tokens before "
                   "read by the base model alone (default 0: every position, as PEFT); "
                   "'prompt': from the prompt's last token on, so only what is written or "
                   "scored is steered")
      ->type_name("POS|prompt");
}

std::vector<llm::AdapterSource> adapter_sources(const ModelFlags& flags) {
  std::vector<llm::AdapterSource> sources;
  for (const std::string& argument : flags.adapters) sources.push_back(adapter_argument(argument));
  return sources;
}

llm::LoraMixture mixture_of(const ModelFlags& flags) {
  const std::vector<llm::AdapterSource> sources = adapter_sources(flags);
  for (const auto& [flag, value] :
       {std::pair{"--mixture", &flags.mixture}, std::pair{"--mixture-file", &flags.mixture_file},
        std::pair{"--mixture-from", &flags.mixture_from}}) {
    if (sources.empty() && !value->empty()) {
      throw std::runtime_error(std::string(flag) + ": no --adapter to weigh");
    }
  }
  if (!flags.mixture.empty() && !flags.mixture_file.empty()) {
    throw std::runtime_error("--mixture and --mixture-file: give one of them");
  }
  llm::LoraMixture mixture;
  if (!flags.mixture_file.empty()) {
    std::vector<std::string> names;
    for (const llm::AdapterSource& source : sources) names.push_back(source.name);
    mixture = read_mixture_file(flags.mixture_file, names);
  } else {
    const std::vector<double> weights = parse_mixture(flags.mixture, sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i) {
      mixture.adapters.emplace_back(sources[i].name, weights[i]);
    }
  }
  if (!flags.mixture_from.empty()) mixture.from_position = parse_mixture_from(flags.mixture_from);
  return mixture;
}

void add_mixture_json(nlohmann::json& line, const llm::LoraMixture& mixture) {
  if (mixture.empty()) return;
  // Those of one weight, then those of a weight per layer.
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, weight] : mixture.adapters) {
    list.push_back({{"name", name}, {"weight", weight}});
  }
  for (const auto& [name, weights] : mixture.layer_weights) {
    list.push_back({{"name", name}, {"layer_weights", weights}});
  }
  line["adapters"] = list;
  if (mixture.from_position == llm::LoraMixture::kLastPromptToken) {
    line["mixture_from"] = "prompt";
  } else if (mixture.from_position != 0) {
    line["mixture_from"] = mixture.from_position;
  }
}

std::unique_ptr<llm::LanguageModel> load_model(const ModelFlags& flags) {
  llm::EmbeddedModelOptions options;
  options.model = resolve_model_path(flags.model);
  options.tokenizer = flags.tokenizer;
  options.device = flags.device;
  options.threads = flags.threads;
  options.adapters = adapter_sources(flags);
  if (const char* kernels = std::getenv("QDGEN_CPU_KERNELS"); kernels && *kernels) {
    options.cpu_kernels = kernels;
  }
  if (const char* aten = std::getenv("QDGEN_ATEN_FORWARD")) {
    options.aten_forward = std::string(aten) == "1";
  }
  return llm::load_embedded_model(options, embedded_module_path());
}

}  // namespace qdgen::cli
