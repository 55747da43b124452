// A PEFT adapter_config.json, read against a small fixed base model (no weights file: the
// config is read and checked completely before the weights are looked for).

#include "fuzz_support.hpp"
#include "qdgen/common/json_parse.hpp"
#include "qdgen/inference/lora_adapter.hpp"
#include "qdgen/inference/model_config.hpp"

namespace {

qdgen::inference::LlamaConfig small_base() {
  return qdgen::inference::parse_llama_config(
      qdgen::common::parse_json(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 32,
        "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 2, "num_key_value_heads": 1})",
                                "base"),
      "base");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qdgen::fuzz::ScratchFolder folder;
  static const qdgen::inference::LlamaConfig base = small_base();
  folder.write("adapter_config.json", qdgen::fuzz::as_text(data, size));
  qdgen::fuzz::expect_clean_failure_or_success(
      [&] { qdgen::inference::read_peft_adapter(folder.path(), base, "fuzz"); });
  return 0;
}
