#pragma once
// Large CPU buffers on transparent huge pages. The KV cache of a 32-row batch and the packed
// weights are tens of megabytes read every decode step; on 4 KiB pages each step misses the
// TLB thousands of times (Debian's default THP mode is "madvise", so plain allocations never
// get huge pages).

#include <ATen/ATen.h>

namespace qdgen::inference {

// A zero-filled float32 CPU tensor of the given sizes, 2 MiB-aligned and advised onto huge
// pages when it is at least that large (plain at::zeros otherwise).
at::Tensor zeros_on_huge_pages(at::IntArrayRef sizes);

}  // namespace qdgen::inference
