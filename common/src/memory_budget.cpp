#include "qdgen/common/memory_budget.hpp"

#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace qdgen::common {

std::uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return UINT64_MAX;  // unknown: let the allocator decide
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

std::string format_bytes(double bytes) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 6) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return text;
}

void require_memory(double bytes, const std::string& what) {
  const std::uint64_t available = physical_memory_bytes();
  if (bytes > static_cast<double>(available)) {
    throw std::runtime_error(what + " would need " + format_bytes(bytes) +
                             " of memory; this machine has " +
                             format_bytes(static_cast<double>(available)));
  }
}

}  // namespace qdgen::common
