#include "input_file.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace qdgen::metrics::detail {

std::string at_file(const std::filesystem::path& file, const std::string& message) {
  return file.string() + ": " + message;
}

std::ifstream open_input(const std::filesystem::path& file) {
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) {
    throw std::runtime_error(at_file(file, "is a directory; expected a file"));
  }
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    throw std::runtime_error(
        at_file(file, std::string("cannot open (") + std::strerror(errno) + ")"));
  }
  return stream;
}

}  // namespace qdgen::metrics::detail
