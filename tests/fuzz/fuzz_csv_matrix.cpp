// A CSV matrix file, as `qdgen metrics` reads it: parsed whole, and opened as a MatrixFile.

#include "fuzz_support.hpp"
#include "qdgen/metrics/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qdgen::fuzz::ScratchFolder folder;
  const auto file = folder.write("x.csv", qdgen::fuzz::as_text(data, size));
  qdgen::fuzz::expect_clean_failure_or_success([&] { qdgen::metrics::read_csv_matrix(file); });
  qdgen::fuzz::expect_clean_failure_or_success([&] { qdgen::metrics::read_vectors(file); });
  return 0;
}
