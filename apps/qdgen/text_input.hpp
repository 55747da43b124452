#pragma once
// The one reader of line-based text input, for every command that reads texts (tokenize,
// embed): a file or "-" (standard input); a UTF-8 byte-order mark before the first line is
// dropped; a line's CRLF end loses its \r; a folder or unreadable file is an error naming it.
// Each line is a text, or with JSON Lines an object {"text": ...} (line_text).

#include <cstddef>
#include <fstream>
#include <istream>
#include <string>

namespace qdgen::cli {

class TextInput {
 public:
  explicit TextInput(const std::string& path);  // "" or "-": standard input

  // The next line without its end of line; false at the end of the input.
  bool next(std::string& line);
  std::size_t line_number() const { return number_; }
  // "FILE line N" (or "stdin line N") for messages.
  std::string where() const;
  const std::string& source() const { return source_; }

 private:
  std::ifstream file_;
  std::istream* in_;
  std::string source_;
  std::size_t number_ = 0;
};

// "auto": a line that is a JSON object is JSONL, any other line (one that merely starts with
// '{' included) is its own text; "text": every line is its text; "jsonl": every line must be
// {"text": "..."}. An object without a string "text" key is an error naming the line.
std::string line_text(const std::string& line, const std::string& where,
                      const std::string& input_format);

inline constexpr const char* kInputFormatHelp =
    "input lines: auto (JSON object lines are JSONL {\"text\": ...}, others text), text, jsonl";

}  // namespace qdgen::cli
