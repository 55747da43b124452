#include "number_checks.hpp"

#include <charconv>
#include <cstdint>
#include <string>

namespace qdgen::cli {

CLI::Validator unsigned_64_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        const bool digits_only = !text.empty() && text.front() != '-' && text.front() != '+';
        if (!digits_only || error != std::errc() || stop != end) {
          return "expected an integer in [0, 18446744073709551615], got '" + text + "'";
        }
        return "";
      },
      "UINT64");
}

CLI::Validator non_empty_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return text.empty() ? std::string("expected a non-empty value, got ''") : std::string();
      },
      "");
}

}  // namespace qdgen::cli
