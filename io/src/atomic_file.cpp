#include "qdgen/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace qdgen::io {

namespace fs = std::filesystem;

namespace {

std::runtime_error file_error(const fs::path& path, const std::string& what, int error) {
  return std::runtime_error(path.string() + ": " + what + " (" + std::strerror(error) + ")");
}

std::string random_suffix() {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[8];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // Never expected on Linux; the pid and clock still make the name unlikely to be taken,
    // and O_EXCL makes a taken name a retry, never a clash.
    const auto seed = static_cast<unsigned long long>(::getpid()) * 0x9E3779B97F4A7C15ull ^
                      static_cast<unsigned long long>(std::clock());
    std::memcpy(bytes, &seed, sizeof bytes);
  }
  std::string suffix;
  for (const unsigned char b : bytes) suffix += kAlphabet[b % (sizeof kAlphabet - 1)];
  return suffix;
}

// Names under /dev and /proc are devices and streams (/dev/stdout, /dev/full, /proc/self/fd/N)
// even when they lead to a regular file: replacing what they lead to would surprise.
bool is_device_name(const fs::path& path) {
  std::error_code error;
  const fs::path absolute = fs::absolute(path, error).lexically_normal();
  const std::string text = absolute.string();
  return text.starts_with("/dev/") || text.starts_with("/proc/");
}

}  // namespace

CreatedFile create_file_beside(const fs::path& path, const std::string& tag) {
  // Not mkstemp: its 0600 would make every file qdgen writes private to its user. open()
  // with 0666 lets the kernel apply the umask (and a folder's default ACL) as for any tool.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path name = path;
    name += tag + random_suffix();
    const int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return {fd, name};
    if (errno == ENOENT)
      throw std::runtime_error(path.string() + ": cannot create it (no folder " +
                               path.parent_path().string() + ")");
    if (errno != EEXIST) throw file_error(path, "cannot create a temporary file beside it", errno);
  }
  throw file_error(path, "cannot create a temporary file beside it", EEXIST);
}

AtomicFileWriter::AtomicFileWriter(fs::path path) : path_(std::move(path)) {
  if (path_.empty()) throw std::runtime_error("an output file name is empty");
  struct stat existing {};
  const bool exists = ::stat(path_.c_str(), &existing) == 0;
  if (exists && S_ISDIR(existing.st_mode))
    throw std::runtime_error(path_.string() + ": is a folder (expected a file to write)");
  if (exists && (!S_ISREG(existing.st_mode) || is_device_name(path_))) {
    // A terminal, pipe or device: written in place, as a stream.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC | (S_ISREG(existing.st_mode) ? O_TRUNC : 0));
    if (fd_ < 0) throw file_error(path_, "cannot open for writing", errno);
  } else {
    std::error_code error;
    // A symlink's target is replaced, not the link.
    target_ = exists ? fs::canonical(path_, error) : path_;
    if (error) target_ = path_;
    CreatedFile created = create_file_beside(target_, ".tmp-");
    fd_ = created.fd;
    temporary_ = std::move(created.path);
    // A replaced file keeps its permissions (as editors and sed -i do).
    if (exists) ::fchmod(fd_, existing.st_mode & 07777);
  }
  buffer_ = std::make_unique<FdOutputBuffer>(fd_);
  stream_ = std::make_unique<std::ostream>(buffer_.get());
}

AtomicFileWriter::~AtomicFileWriter() {
  stream_.reset();
  discard();
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temporary_.empty()) ::unlink(temporary_.c_str());
  temporary_.clear();
}

void AtomicFileWriter::write(std::span<const std::byte> bytes) {
  stream().write(reinterpret_cast<const char*>(bytes.data()),
                 static_cast<std::streamsize>(bytes.size()));
  if (buffer_->error() != 0) throw file_error(path_, "cannot write", buffer_->error());
}

void AtomicFileWriter::write(std::string_view text) {
  write(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::ostream& AtomicFileWriter::stream() {
  if (fd_ < 0) throw std::runtime_error(path_.string() + ": already written");
  return *stream_;
}

void AtomicFileWriter::check() const {
  if (buffer_ && buffer_->error() != 0) throw file_error(path_, "cannot write", buffer_->error());
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) throw std::runtime_error(path_.string() + ": already written");
  if (!buffer_->flush_all() || !*stream_) {
    const int error = buffer_->error() != 0 ? buffer_->error() : EIO;
    discard();
    throw file_error(path_, "cannot write", error);
  }
  // Durable before it is visible: after a crash the name holds the old file or the new one.
  if (!temporary_.empty() && ::fsync(fd_) != 0) {
    const int error = errno;
    discard();
    throw file_error(path_, "cannot flush to disk", error);
  }
  const int closed = ::close(fd_);
  const int close_error = errno;
  fd_ = -1;
  if (closed != 0) {
    discard();
    throw file_error(path_, "cannot write", close_error);
  }
  if (temporary_.empty()) return;
  if (std::rename(temporary_.c_str(), target_.c_str()) != 0) {
    const int error = errno;
    discard();
    throw file_error(path_, "cannot rename the temporary file onto it", error);
  }
  temporary_.clear();
}

}  // namespace qdgen::io
