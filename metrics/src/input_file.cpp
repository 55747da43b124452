#include "input_file.hpp"

namespace qdgen::metrics::detail {

std::string at_file(const std::filesystem::path& file, const std::string& message) {
  return file.string() + ": " + message;
}

}  // namespace qdgen::metrics::detail
