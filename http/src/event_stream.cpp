#include "qdgen/http/event_stream.hpp"

namespace qdgen::http {

namespace {

// A field's value ends at a line break: one inside it would start a field of its own.
void append_field(std::string& out, const char* name, const std::string& value) {
  std::size_t start = 0;
  while (true) {
    const std::size_t end = value.find_first_of("\r\n", start);
    out += name;
    out += ": ";
    out.append(value, start, end == std::string::npos ? std::string::npos : end - start);
    out += '\n';
    if (end == std::string::npos) return;
    start = end + (value.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
}

std::string one_line(const std::string& value) {
  std::string line = value;
  for (char& c : line)
    if (c == '\r' || c == '\n') c = ' ';
  return line;
}

}  // namespace

std::string format_event(const Event& event) {
  std::string out;
  if (!event.type.empty()) out += "event: " + one_line(event.type) + "\n";
  if (!event.id.empty()) out += "id: " + one_line(event.id) + "\n";
  append_field(out, "data", event.data);
  out += '\n';
  return out;
}

}  // namespace qdgen::http
