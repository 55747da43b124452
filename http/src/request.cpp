#include "qdgen/http/request.hpp"

#include <charconv>

namespace qdgen::http {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) return value;
  return std::nullopt;
}

const std::string& Request::param(const std::string& name) const {
  const auto found = params.find(name);
  if (found == params.end()) throw HttpError(500, "route parameter '" + name + "' is missing");
  return found->second;
}

std::int64_t Request::integer_param(const std::string& name, std::int64_t low,
                                    std::int64_t high) const {
  return parse_integer(param(name), name, low, high);
}

std::optional<std::int64_t> Request::integer_query(const std::string& name, std::int64_t low,
                                                   std::int64_t high) const {
  const auto found = query.find(name);
  if (found == query.end()) return std::nullopt;
  return parse_integer(found->second, name, low, high);
}

std::int64_t parse_integer(std::string_view text, std::string_view what, std::int64_t low,
                           std::int64_t high) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  // from_chars takes no '+' or spaces; a leading zero is fine; digits only, all of them.
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end || value < low || value > high) {
    std::string shown(text.substr(0, 40));
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    throw HttpError(400, std::string(what) + ": expected an integer in [" + std::to_string(low) +
                             ", " + std::to_string(high) + "], got '" + shown +
                             (text.size() > 40 ? "...'" : "'"));
  }
  return value;
}

}  // namespace qdgen::http
