#pragma once
// Large CPU buffers on transparent huge pages. The KV cache of a 32-row batch and the packed
// weights are tens of megabytes read every decode step; on 4 KiB pages each step misses the
// TLB thousands of times (Debian's default THP mode is "madvise", so plain allocations never
// get huge pages).

#include <ATen/ATen.h>

namespace qdgen::inference {

// A zero-filled float32 CPU tensor of the given sizes: from 2 MiB on, its own 2 MiB-aligned
// anonymous mapping advised onto huge pages (zero pages from the kernel, no memset; unmapped
// when the tensor is freed); plain at::zeros below that.
at::Tensor zeros_on_huge_pages(at::IntArrayRef sizes);

}  // namespace qdgen::inference
