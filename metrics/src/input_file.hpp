#pragma once
// Internal: opening an input file with an error that says which file and why.

#include <filesystem>
#include <fstream>
#include <string>

namespace qdgen::metrics::detail {

std::ifstream open_input(const std::filesystem::path& file);

// "FILE: message" — the prefix every reader's error carries.
std::string at_file(const std::filesystem::path& file, const std::string& message);

}  // namespace qdgen::metrics::detail
