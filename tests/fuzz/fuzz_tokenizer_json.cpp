// A Hugging Face tokenizer.json, loaded as load_tokenizer() does, then used: a loaded
// tokenizer must encode and decode without faults whatever its vocabulary, merges,
// normalizer, pre-tokenizer and decoder say.

#include <string>

#include "fuzz_support.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "tokenizer_loaders.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qdgen::fuzz::ScratchFolder folder;
  const std::string contents(qdgen::fuzz::as_text(data, size));
  qdgen::fuzz::expect_clean_failure_or_success([&] {
    const auto tokenizer =
        qdgen::inference::load_hf_tokenizer(folder.path() / "tokenizer.json", contents);
    const auto ids =
        tokenizer->encode("Hello, w\xc3\xb6rld!  12 \xf0\x9f\x99\x82\n\tend\xff", true);
    tokenizer->decode(ids, false);
    tokenizer->decode(ids, true);
  });
  return 0;
}
