// A JSONL file of texts ({"text": ...} per line), as `qdgen metrics` reads it.

#include "fuzz_support.hpp"
#include "qdgen/metrics/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qdgen::fuzz::ScratchFolder folder;
  const auto file = folder.write("x.jsonl", qdgen::fuzz::as_text(data, size));
  qdgen::fuzz::expect_clean_failure_or_success([&] { qdgen::metrics::read_jsonl_texts(file); });
  return 0;
}
