#include "qdgen/io/fd_output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qdgen::io {

FdOutputBuffer::FdOutputBuffer(int fd, std::size_t capacity) : fd_(fd), storage_(capacity) {
  setp(storage_.data(), storage_.data() + storage_.size());
}

bool FdOutputBuffer::write_fully(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd_, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      error_ = errno;
      return false;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

bool FdOutputBuffer::flush_all() {
  if (error_ != 0) return false;
  const bool written = write_fully(pbase(), static_cast<std::size_t>(pptr() - pbase()));
  setp(storage_.data(), storage_.data() + storage_.size());
  return written;
}

FdOutputBuffer::int_type FdOutputBuffer::overflow(int_type c) {
  if (!flush_all()) return traits_type::eof();
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
  }
  return traits_type::not_eof(c);
}

std::streamsize FdOutputBuffer::xsputn(const char* data, std::streamsize count) {
  const auto size = static_cast<std::size_t>(count);
  if (size == 0) return 0;  // an empty tensor's data may be a null pointer (memcpy's UB)
  if (size <= static_cast<std::size_t>(epptr() - pptr())) {
    std::memcpy(pptr(), data, size);
    pbump(static_cast<int>(count));
    return count;
  }
  if (!flush_all()) return 0;
  if (size < storage_.size()) {
    std::memcpy(pptr(), data, size);
    pbump(static_cast<int>(count));
    return count;
  }
  // Large blocks (model weights) go straight to the file.
  return write_fully(data, size) ? count : 0;
}

int FdOutputBuffer::sync() {
  return flush_all() ? 0 : -1;
}

}  // namespace qdgen::io
