#include "qdgen/common/json_parse.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include "qdgen/common/json_reader.hpp"

namespace qdgen::common {

namespace {

using nlohmann::json;

// The key path the parser is at, kept from its callback events. Only a failed parse is run
// again with it, so a good file pays nothing.
class KeyTracker {
 public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        frames_.push_back({false, 0, {}});
        break;
      case json::parse_event_t::array_start:
        frames_.push_back({true, 0, {}});
        break;
      case json::parse_event_t::key:
        if (!frames_.empty() && parsed.is_string()) frames_.back().key = parsed.get<std::string>();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  }

  std::string path() const {
    std::string text;
    for (const Frame& frame : frames_) {
      if (frame.is_array) {
        text.append("[").append(std::to_string(frame.index)).append("]");
      } else if (!frame.key.empty()) {
        if (!text.empty()) text.push_back('.');
        text.append(frame.key);
      }
    }
    return text;
  }

 private:
  struct Frame {
    bool is_array;
    std::size_t index;
    std::string key;
  };
  void element_done() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }
  std::vector<Frame> frames_;
};

std::string parse_problem(std::string_view text, const json::exception& error) {
  KeyTracker tracker;
  std::string path;
  try {
    const json again = json::parse(text, std::ref(tracker));
    return json_exception_text(error);  // parses now: the first error said all there is
  } catch (const json::exception&) {
    path = tracker.path();
  }
  std::string what = json_exception_text(error);
  // The lexer's own words for an out-of-range number: "number overflow parsing '1e999'".
  const std::string overflow = "number overflow parsing ";
  if (what.rfind(overflow, 0) == 0) {
    std::string_view number(what);
    number.remove_prefix(overflow.size());
    if (number.size() >= 2 && number.front() == '\'' && number.back() == '\'')
      number = number.substr(1, number.size() - 2);
    std::string message = "the number ";
    message.append(number).append(" does not fit a double (at most 1.8e308)");
    what = std::move(message);
  } else
    what = "not valid JSON (" + what + ")";
  return path.empty() ? what : path + ": " + what;
}

}  // namespace

std::string json_exception_text(const json::exception& error) {
  std::string text = error.what();
  if (text.rfind("[json.exception.", 0) == 0) {
    const auto end = text.find("] ");
    if (end != std::string::npos) text.erase(0, end + 2);
  }
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

json parse_json(std::string_view text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::exception& error) {
    throw JsonError((source.empty() ? "" : source + ": ") + parse_problem(text, error));
  }
}

json read_json_file(const std::filesystem::path& path, const std::string& what) {
  std::error_code code;
  if (std::filesystem::is_directory(path, code))
    throw JsonError(path.string() + ": is a folder, expected " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JsonError(path.string() + ": cannot open " + what + " (missing or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw JsonError(path.string() + ": cannot read " + what);
  return parse_json(text.str(), path.string());
}

}  // namespace qdgen::common
