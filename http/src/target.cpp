#include "qdgen/http/target.hpp"

#include "qdgen/http/request.hpp"

namespace qdgen::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const bool two_follow = i + 2 < text.size();
      const int high = two_follow ? hex_value(text[i + 1]) : -1;
      const int low = two_follow ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0)
        throw HttpError(400, "bad request target: a '%' not followed by two hex digits");
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

Target parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/')
    throw HttpError(400, "bad request target: expected a path starting with '/'");
  for (const char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#' || c == '\\')
      throw HttpError(400, "bad request target: a control character, space, '#' or '\\'");
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  Target parsed;
  if (path.size() > 1) {
    for (const std::string_view raw : split(path.substr(1), '/')) {
      std::string segment = percent_decode(raw, false);
      if (segment == "." || segment == "..")
        throw HttpError(400, "bad request target: a '.' or '..' segment");
      if (segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)
        throw HttpError(400, "bad request target: an encoded '/', '\\' or NUL in the path");
      parsed.path.push_back(std::move(segment));
    }
  }
  if (question == std::string_view::npos) return parsed;
  for (const std::string_view pair : split(target.substr(question + 1), '&')) {
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    std::string key = percent_decode(pair.substr(0, equals), true);
    std::string value =
        equals == std::string_view::npos ? "" : percent_decode(pair.substr(equals + 1), true);
    if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos)
      throw HttpError(400, "bad request target: a NUL in the query");
    if (parsed.query.count(key)) {
      // The key as decoded may hold anything: the message shows it on one line, shortened.
      std::string shown = key.substr(0, 40);
      for (char& c : shown)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      throw HttpError(400, "bad request target: query parameter '" + shown +
                               (key.size() > 40 ? "...'" : "'") + " given twice");
    }
    parsed.query.emplace(std::move(key), std::move(value));
  }
  return parsed;
}

}  // namespace qdgen::http
