#include "fuzz_support.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <typeinfo>

namespace qdgen::fuzz {
namespace {

[[noreturn]] void defect(const char* kind, const std::string& message) {
  std::fprintf(stderr, "qdgen fuzz: %s: %s\n", kind, message.c_str());
  std::abort();
}

// "[json.exception.parse_error.101] " where a message or a part of one starts: a nlohmann
// message wrapped without json_exception_text. Input echoed in quotes may hold anything.
bool has_nlohmann_tag(const std::string& message) {
  static constexpr std::string_view kTag = "[json.exception.";
  for (std::size_t at = message.find(kTag); at != std::string::npos;
       at = message.find(kTag, at + 1)) {
    if (at != 0 && (at < 2 || message.compare(at - 2, 2, ": ") != 0)) continue;
    std::size_t i = at + kTag.size();
    while (i < message.size() &&
           (std::islower(static_cast<unsigned char>(message[i])) || message[i] == '_'))
      ++i;
    if (i == at + kTag.size() || i >= message.size() || message[i] != '.') continue;
    const std::size_t digits = ++i;
    while (i < message.size() && std::isdigit(static_cast<unsigned char>(message[i]))) ++i;
    if (i > digits && message.compare(i, 2, "] ") == 0) return true;
  }
  return false;
}

void check_message(const std::exception& error) {
  const std::string message = error.what();
  if (message.empty()) defect("exception without a message", typeid(error).name());
  if (message.find('\n') != std::string::npos) defect("multi-line message", message);
  if (has_nlohmann_tag(message)) defect("nlohmann message passed on untranslated", message);
  // Messages of the standard library itself ("stoi", "basic_string::substr") name no file.
  if (message.find(' ') == std::string::npos) defect("message without context", message);
}

}  // namespace

void expect_clean_failure_or_success(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const nlohmann::json::exception& error) {
    defect("untranslated nlohmann exception", error.what());
  } catch (const std::logic_error& error) {
    // std::invalid_argument is the project's answer to a bad value; the rest of the family
    // (out_of_range, length_error, domain_error, future_error) is a bug.
    if (dynamic_cast<const std::invalid_argument*>(&error) == nullptr)
      defect(typeid(error).name(), error.what());
    check_message(error);
  } catch (const std::runtime_error& error) {
    check_message(error);
  } catch (const std::exception& error) {
    defect(typeid(error).name(), error.what());
  }
}

ScratchFolder::ScratchFolder() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      (std::filesystem::path(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") / "qdgen-fuzz-XXXXXX")
          .string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("qdgen fuzz: mkdtemp");
    std::abort();
  }
  path_ = pattern;
}

ScratchFolder::~ScratchFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path ScratchFolder::write(const std::string& name, std::string_view bytes) const {
  const std::filesystem::path file = path_ / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "qdgen fuzz: cannot write %s\n", file.c_str());
    std::abort();
  }
  return file;
}

}  // namespace qdgen::fuzz
