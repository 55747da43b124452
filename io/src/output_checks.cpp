#include "qdgen/io/output_checks.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "qdgen/io/fd_output.hpp"

namespace qdgen::io {

namespace fs = std::filesystem;

namespace {

fs::path normal_absolute(const fs::path& path) {
  std::error_code error;
  fs::path resolved = fs::weakly_canonical(path, error);
  if (error) resolved = fs::absolute(path, error);
  return resolved.lexically_normal();
}

std::string spelled(const fs::path& output, const fs::path& input) {
  return output == input ? "" : " (" + input.string() + ")";
}

}  // namespace

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code error;
  if (fs::exists(a, error) && fs::exists(b, error)) {
    const bool same = fs::equivalent(a, b, error);
    if (!error) return same;
  }
  return normal_absolute(a) == normal_absolute(b);
}

void refuse_output_over_input(const fs::path& output, const fs::path& input) {
  if (output.empty() || input.empty() || !same_file(output, input)) return;
  throw std::runtime_error(output.string() + ": is also the input" + spelled(output, input) +
                           "; write the output to another file");
}

void refuse_folder_over_input(const fs::path& folder, const fs::path& input) {
  if (folder.empty() || input.empty()) return;
  refuse_output_over_input(folder, input);
  const fs::path outer = normal_absolute(folder);
  for (fs::path inner = normal_absolute(input); inner.has_relative_path();) {
    fs::path parent = inner.parent_path();
    if (parent == inner) break;
    inner = std::move(parent);
    if (inner == outer)
      throw std::runtime_error(folder.string() + ": holds the input " + input.string() +
                               "; write the output to another folder");
  }
}

void check_written(std::ostream& out, const std::string& name) {
  if (out) return;
  // The buffer's own record of the failed write is exact; errno may have moved on since.
  const auto* buffer = dynamic_cast<const FdOutputBuffer*>(out.rdbuf());
  const int error = buffer != nullptr && buffer->error() != 0 ? buffer->error() : errno;
  throw std::runtime_error("cannot write " + name + " (" +
                           (error != 0 ? std::strerror(error) : "write failed") + ")");
}

void flush_and_check(std::ostream& out, const std::string& name) {
  errno = 0;
  out.flush();
  check_written(out, name);
}

}  // namespace qdgen::io
