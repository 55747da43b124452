#pragma once
// The request target (RFC 9112 origin form: "/path?query") split and decoded, refusing what
// could name something outside what the server serves: a segment that is "." or "..", or that
// decodes to one, or holds a slash, backslash or NUL after decoding; a target that is not a
// path (absolute form, "*"), a malformed %-escape, a control character.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace qdgen::http {

struct Target {
  std::vector<std::string> path;             // decoded segments; "/" has none
  std::map<std::string, std::string> query;  // decoded ("+" is a space); a repeated key: refused
};

// Throws HttpError 400 with one line saying what is wrong.
Target parse_target(std::string_view target);

// "%41b+c" -> "Ab c" when `plus_is_space`; throws HttpError 400 for a malformed escape.
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace qdgen::http
