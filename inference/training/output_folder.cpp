#include "output_folder.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace qdgen::inference::training {

namespace fs = std::filesystem;

fs::path make_staging_folder(const fs::path& given, const std::string& tag) {
  const fs::path target = given.filename().empty() ? given.parent_path() : given;  // "dir/"
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  fs::create_directories(parent);
  std::string name = ".";
  name.append(target.filename().string()).append(".").append(tag).append("-");
  name.append(std::to_string(getpid()));
  const fs::path staged = parent / name;
  fs::remove_all(staged);
  fs::create_directory(staged);
  return staged;
}

void publish_folder(const fs::path& staged, const fs::path& target) {
  if (!fs::exists(target)) {
    fs::rename(staged, target);
    return;
  }
  // An atomic exchange where the file system has one: `target` is never missing.
  if (renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staged);
    return;
  }
  const fs::path old = staged.string() + ".old";
  fs::rename(target, old);
  fs::rename(staged, target);
  fs::remove_all(old);
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path.string() + ": cannot write the file");
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace qdgen::inference::training
