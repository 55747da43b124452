// An experiment config (experiments/*.json), as `qdgen run` reads it: JSON text, then every
// key of every section through the kind registries.

#include "fuzz_support.hpp"
#include "qdgen/common/json_parse.hpp"
#include "qdgen/engine/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  qdgen::fuzz::expect_clean_failure_or_success([&] {
    const nlohmann::json json =
        qdgen::common::parse_json(qdgen::fuzz::as_text(data, size), "x.json");
    qdgen::engine::parse_experiment_config(json, "x.json");
  });
  return 0;
}
