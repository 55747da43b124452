#pragma once
// Folders that appear whole or not at all: written under a temporary name beside their
// final place, then renamed into it (swapped atomically with an older one when replacing).

#include <filesystem>
#include <string>

namespace qdgen::inference::training {

// An empty folder beside `target` (".<name>.<tag>-<pid>"), for staging its contents.
std::filesystem::path make_staging_folder(const std::filesystem::path& target,
                                          const std::string& tag);

// Moves `staged` to `target`, replacing a `target` that exists (its old contents are removed).
void publish_folder(const std::filesystem::path& staged, const std::filesystem::path& target);

void write_text_file(const std::filesystem::path& path, const std::string& text);
std::string read_text_file(const std::filesystem::path& path);

}  // namespace qdgen::inference::training
