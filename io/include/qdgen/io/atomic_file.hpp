#pragma once
// Every file qdgen writes appears whole or not at all: written to a temporary file beside it,
// flushed to disk, then renamed onto it, so a failure (bad input found late, a full disk, a
// crash) leaves the previous file untouched. New files get 0666 less the umask, as other tools
// give; a replaced file keeps its permissions. A name that is not a regular file (a terminal,
// a pipe, /dev/full, /dev/stdout) is written directly, as a stream, and a symlink is followed
// (the file it names is replaced, the link stays).

#include <cstddef>
#include <filesystem>
#include <memory>
#include <ostream>
#include <span>
#include <string>

#include "qdgen/io/fd_output.hpp"

namespace qdgen::io {

class AtomicFileWriter {
 public:
  // Throws std::runtime_error naming the path when it cannot be written (a folder, no such
  // folder, no permission).
  explicit AtomicFileWriter(std::filesystem::path path);
  ~AtomicFileWriter();  // without commit(): the temporary file is removed, the target untouched
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Buffered; throws naming the path on a failed write.
  void write(std::span<const std::byte> bytes);
  void write(std::string_view text);
  template <typename T>
  void write_values(std::span<const T> values) {
    write(std::as_bytes(values));
  }
  // The same file as a stream, for formatted output; a failed write sets badbit and commit()
  // throws with the reason.
  std::ostream& stream();
  // Throws naming the path and the reason when a write has failed (e.g. after a caller's own
  // error, to report the write rather than its consequence).
  void check() const;
  // Flushes, syncs, and renames onto the path; throws naming the path and the reason (e.g.
  // "No space left on device").
  void commit();

  const std::filesystem::path& path() const { return path_; }

 private:
  void discard() noexcept;

  std::filesystem::path path_;       // as given, for messages
  std::filesystem::path target_;     // the file replaced (a symlink's target)
  std::filesystem::path temporary_;  // empty when writing directly
  int fd_ = -1;
  std::unique_ptr<FdOutputBuffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
};

// A new empty file beside `path`, named `path` + tag + random suffix, created exclusively with
// mode 0666 less the umask. Returns the open descriptor and its name; throws naming `path`.
struct CreatedFile {
  int fd = -1;
  std::filesystem::path path;
};
CreatedFile create_file_beside(const std::filesystem::path& path, const std::string& tag);

}  // namespace qdgen::io
