#pragma once
// Reading the SVG and HTML qdgen writes, at the level of their text: elements of a kind, an
// element's attribute, occurrences of a string. (No std::regex: GCC 12 warns inside it under
// the sanitizers' -O1, and warnings are errors.)

#include <string>
#include <vector>

namespace qdgen_test {

// Every start tag "<tag ...>" of a kind, as written.
inline std::vector<std::string> elements(const std::string& text, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag;
  for (std::size_t at = text.find(open); at != std::string::npos; at = text.find(open, at + 1)) {
    const char after = at + open.size() < text.size() ? text[at + open.size()] : '\0';
    if (after != ' ' && after != '>' && after != '/' && after != '\n') continue;
    out.push_back(text.substr(at, text.find('>', at) - at + 1));
  }
  return out;
}

// The value of name="..." in a start tag; empty when absent.
inline std::string attribute(const std::string& element, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const std::size_t at = element.find(key);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + key.size();
  return element.substr(begin, element.find('"', begin) - begin);
}

inline std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace qdgen_test
