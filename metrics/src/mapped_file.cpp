#include "mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "input_file.hpp"

namespace qdgen::metrics::detail {
namespace {

std::runtime_error cannot(const std::filesystem::path& file, const char* what, int error) {
  return std::runtime_error(at_file(file, std::string(what) + " (" + std::strerror(error) + ")"));
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw cannot(file, "cannot open", errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw cannot(file, "cannot open", error);
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    throw std::runtime_error(at_file(file, "is a directory; expected a file"));
  }
  if (S_ISREG(info.st_mode) && info.st_size > 0) {
    // Mapped, the page cache is read in place: mapping and summing a cached 123 MB file took
    // 0.02 s of CPU here, read() into a fresh buffer and summing it 0.07 s (page faults on
    // the buffer and the copy). MAP_POPULATE maps every page in one call rather than fault
    // by fault; it cost the same, with steadier wall times.
    void* data = ::mmap(nullptr, static_cast<std::size_t>(info.st_size), PROT_READ,
                        MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (data != MAP_FAILED) {
      ::close(fd);
      data_ = static_cast<const std::byte*>(data);
      size_ = static_cast<std::size_t>(info.st_size);
      mapped_ = true;
      return;
    }
  }
  // A pipe, a FIFO, /proc: read whatever comes.
  std::byte buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      throw cannot(file, "read error", error);
    }
    copy_.insert(copy_.end(), buffer, buffer + got);
  }
  ::close(fd);
  data_ = copy_.data();
  size_ = copy_.size();
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace qdgen::metrics::detail
