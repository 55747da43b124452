#pragma once
// What every fuzz target shares: the rule for which exceptions are a parser's documented
// answer to bad input, and a scratch folder for the parsers that read files.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace qdgen::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs one parse. A std::runtime_error or std::invalid_argument with a one-line message is
// the documented answer to bad input and passes; anything else aborts, so libFuzzer keeps
// the input: a raw nlohmann exception, a standard-library logic error (out_of_range,
// length_error: an unchecked index or size), bad_alloc, an empty or multi-line message, or an
// exception of no std type. Memory errors and undefined behaviour crash by themselves.
void expect_clean_failure_or_success(const std::function<void()>& parse);

// A folder of this process (under $TMPDIR) removed at exit; write() replaces a file in it.
class ScratchFolder {
 public:
  ScratchFolder();
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view bytes) const;

 private:
  std::filesystem::path path_;
};

}  // namespace qdgen::fuzz
