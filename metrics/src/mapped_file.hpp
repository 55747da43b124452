#pragma once
// Internal: a whole file mapped read-only into memory, so a reader can parse it in place.

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

namespace qdgen::metrics::detail {

class MappedFile {
 public:
  // Throws "FILE: cannot open (reason)" or "FILE: is a directory; expected a file". Pipes and
  // other files that cannot be mapped are read into memory instead.
  explicit MappedFile(const std::filesystem::path& file);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::vector<std::byte> copy_;  // when the file could not be mapped
};

}  // namespace qdgen::metrics::detail
