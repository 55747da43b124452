#pragma once
// A whole file mapped read-only into memory, so readers hand out views without copying.

#include <cstddef>
#include <filesystem>
#include <span>

namespace qdgen::inference {

class MappedFile {
 public:
  // Throws std::runtime_error naming the path (missing, not a regular file, unreadable).
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace qdgen::inference
