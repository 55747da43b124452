#include "mapped_file_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace qdgen::inference {

namespace {

std::runtime_error write_error(const std::filesystem::path& path, const std::string& what,
                               int error) {
  return std::runtime_error(path.string() + ": " + what + ": " + std::strerror(error));
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path) : path_(std::move(path)) {
  std::string pattern = path_.string() + ".tmp-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) throw write_error(path_, "cannot create a temporary file beside it", errno);
  temporary_path_ = name.data();
  ::fchmod(fd_, 0644);  // mkstemp's 0600 would surprise users sharing model folders
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_path_.c_str());
  }
}

void AtomicFileWriter::write(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw write_error(path_, "cannot write", errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

void AtomicFileWriter::commit() {
  if (::fsync(fd_) != 0) throw write_error(path_, "cannot flush", errno);
  const int result = ::close(fd_);
  fd_ = -1;
  if (result != 0) {
    const int error = errno;
    ::unlink(temporary_path_.c_str());
    throw write_error(path_, "cannot close", error);
  }
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary_path_.c_str());
    throw write_error(path_, "cannot rename the temporary file onto it", error);
  }
}

}  // namespace qdgen::inference
