#pragma once
// Checks every command makes of what it writes: an output is never one of its inputs (it
// would be replaced before or while being read), and a failed write is an error, not exit 0.

#include <filesystem>
#include <ostream>
#include <string>

namespace qdgen::io {

// Whether two names are the same file: the same inode when both exist (through symlinks and
// hard links), else the same path once made absolute and normal.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);
// Throws "OUTPUT: is also the input (INPUT); write to another file" when they are the same file.
void refuse_output_over_input(const std::filesystem::path& output,
                              const std::filesystem::path& input);
// For an output folder that replaces what is there: refuses one that is, or holds, the input.
void refuse_folder_over_input(const std::filesystem::path& folder,
                              const std::filesystem::path& input);

// Throws "cannot write NAME (reason)" when `out` is in a failed state (call after writing,
// e.g. once a line); `name` is a file or "standard output".
void check_written(std::ostream& out, const std::string& name);
// Flushes, then check_written.
void flush_and_check(std::ostream& out, const std::string& name);

}  // namespace qdgen::io
