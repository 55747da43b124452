#include "writer_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qdgen/store/run_info.hpp"

namespace qdgen::store {

namespace {

std::string holder_of(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid(text, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  const bool digits = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
  return digits ? " (pid " + pid + ")" : "";
}

}  // namespace

std::filesystem::path WriterLock::lock_file_of(const std::filesystem::path& run_file) {
  std::filesystem::path lock = run_file;
  lock += "-lock";
  return lock;
}

WriterLock::WriterLock(const std::filesystem::path& run_file) : lock_file_(lock_file_of(run_file)) {
  // A writer that closes removes the file while it still holds the lock; one who opened the
  // old file meanwhile may then lock it, and sees that it is no longer the file of that name.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
      throw RunStoreError(run_file.string() + ": cannot create the writer's lock file " +
                          lock_file_.string() + " (" + std::strerror(errno) + ")");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = holder_of(fd);
      ::close(fd);
      if (error == EWOULDBLOCK)
        throw RunStoreError(run_file.string() + " is in use by another qdgen process" + holder);
      throw RunStoreError(run_file.string() + ": cannot lock " + lock_file_.string() + " (" +
                          std::strerror(error) + ")");
    }
    struct stat locked {
    }, named{};
    if (::fstat(fd, &locked) == 0 && ::stat(lock_file_.c_str(), &named) == 0 &&
        locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        // The pid only improves the message another process gives; the lock holds without it.
      }
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw RunStoreError(run_file.string() + ": cannot lock " + lock_file_.string() +
                      " (it keeps being replaced)");
}

WriterLock::~WriterLock() {
  // Removed before it is released: see the constructor.
  ::unlink(lock_file_.c_str());
  ::close(fd_);
}

}  // namespace qdgen::store
