#pragma once
// One writer per run: a second `qdgen run --resume` of a run (or a resume of a run still being
// written) is refused up front instead of failing midway on a duplicate iteration. The lock is
// an flock() on RUN-lock beside the run, which holds the writer's pid for the message. The
// kernel releases it when the process ends however it ends (SIGKILL included), so a crashed
// writer never leaves a stale lock; the file itself is removed when the writer closes.

#include <filesystem>
#include <string>

namespace qdgen::store {

class WriterLock {
 public:
  // Throws RunStoreError "RUN is in use by another qdgen process (pid N)" when another
  // writer (in this process or another) holds the run.
  explicit WriterLock(const std::filesystem::path& run_file);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  static std::filesystem::path lock_file_of(const std::filesystem::path& run_file);

 private:
  std::filesystem::path lock_file_;
  int fd_ = -1;
};

}  // namespace qdgen::store
