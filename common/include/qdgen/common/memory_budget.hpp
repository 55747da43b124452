#pragma once
// Sizes that come from a user (a grid's cells, a batch, a dimension) are checked against the
// machine's memory before they are allocated, so that a config asking for terabytes gets a
// message saying so instead of std::bad_alloc or the kernel's OOM killer.

#include <cstdint>
#include <string>

namespace qdgen::common {

// Physical memory of this machine, in bytes.
std::uint64_t physical_memory_bytes();

// "1.5 GiB", "7.3 TiB".
std::string format_bytes(double bytes);

// Throws std::runtime_error "<what> would need X of memory; this machine has Y" when `bytes`
// exceeds the machine's physical memory.
void require_memory(double bytes, const std::string& what);

}  // namespace qdgen::common
