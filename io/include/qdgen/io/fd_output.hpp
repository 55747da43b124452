#pragma once
// A buffered std::streambuf over a file descriptor that keeps the first write error (errno at
// the failed write), so that a command can say why its output failed ("No space left on
// device") however much happened since. AtomicFileWriter writes through one; main() puts one
// under std::cout.

#include <streambuf>
#include <vector>

namespace qdgen::io {

class FdOutputBuffer : public std::streambuf {
 public:
  explicit FdOutputBuffer(int fd, std::size_t capacity = 1 << 16);
  // Drops what is still buffered: call flush_all() (or the stream's flush) first. (Flushing
  // here could write to a descriptor its owner has closed and the system given to another.)
  ~FdOutputBuffer() override = default;

  int error() const { return error_; }  // 0 until a write fails
  bool flush_all();                     // false once a write has failed

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* data, std::streamsize count) override;
  int sync() override;

 private:
  bool write_fully(const char* data, std::size_t size);

  int fd_;
  std::vector<char> storage_;
  int error_ = 0;
};

}  // namespace qdgen::io
