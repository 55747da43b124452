// A model's config.json (Hugging Face), as read_llama_config() reads it.

#include "fuzz_support.hpp"
#include "qdgen/common/json_parse.hpp"
#include "qdgen/inference/model_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qdgen::fuzz::expect_clean_failure_or_success([&] {
    const nlohmann::json json =
        qdgen::common::parse_json(qdgen::fuzz::as_text(data, size), "config.json");
    const qdgen::inference::LlamaConfig config =
        qdgen::inference::parse_llama_config(json, "config.json");
    qdgen::inference::llama_tensor_specs(config);
  });
  return 0;
}
