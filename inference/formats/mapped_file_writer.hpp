#pragma once
// The writing counterpart of MappedFile: a file appears whole or not at all (written to a
// temporary file beside it, flushed, then renamed), so a crash never leaves half a model.

#include <cstddef>
#include <filesystem>
#include <span>

namespace qdgen::inference {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path);  // throws naming the path
  ~AtomicFileWriter();  // without commit(): the temporary file is removed
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::span<const std::byte> bytes);
  template <typename T>
  void write_values(std::span<const T> values) {
    write(std::as_bytes(values));
  }
  void commit();  // flush to disk, then rename onto the final path

 private:
  std::filesystem::path path_;
  std::filesystem::path temporary_path_;
  int fd_ = -1;
};

}  // namespace qdgen::inference
