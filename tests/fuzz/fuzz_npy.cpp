// An NPY matrix file: read into memory, memory-mapped as a MatrixFile, and read as vectors.

#include "fuzz_support.hpp"
#include "qdgen/metrics/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qdgen::fuzz::ScratchFolder folder;
  const auto file = folder.write("x.npy", qdgen::fuzz::as_text(data, size));
  qdgen::fuzz::expect_clean_failure_or_success([&] { qdgen::metrics::read_npy_matrix(file); });
  qdgen::fuzz::expect_clean_failure_or_success([&] {
    const qdgen::metrics::MatrixFile matrix(file);
    (void)matrix.view();
  });
  qdgen::fuzz::expect_clean_failure_or_success([&] { qdgen::metrics::read_vectors(file); });
  return 0;
}
