// A llama2.c tokenizer.bin, loaded as load_tokenizer() does, then used to encode and decode.

#include <string>

#include "fuzz_support.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "tokenizer_loaders.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string contents(qdgen::fuzz::as_text(data, size));
  qdgen::fuzz::expect_clean_failure_or_success([&] {
    const auto tokenizer = qdgen::inference::load_llama2c_tokenizer("tokenizer.bin", contents);
    const auto ids =
        tokenizer->encode("Hello, w\xc3\xb6rld!  12 \xf0\x9f\x99\x82\n\tend\xff", true);
    tokenizer->decode(ids, false);
    tokenizer->decode(ids, true);
  });
  return 0;
}
