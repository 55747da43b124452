#pragma once
// Internal: the prefix every reader's error carries.

#include <filesystem>
#include <string>

namespace qdgen::metrics::detail {

// "FILE: message".
std::string at_file(const std::filesystem::path& file, const std::string& message);

}  // namespace qdgen::metrics::detail
