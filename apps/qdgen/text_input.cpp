#include "text_input.hpp"

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace qdgen::cli {

TextInput::TextInput(const std::string& path) : in_(&std::cin), source_("stdin") {
  if (path.empty() || path == "-") return;
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw std::runtime_error(path + ": is a folder, expected a text file (one text per line)");
  }
  file_.open(path, std::ios::binary);
  if (!file_) throw std::runtime_error(path + ": cannot open input file");
  in_ = &file_;
  source_ = path;
}

bool TextInput::next(std::string& line) {
  if (!std::getline(*in_, line)) {
    if (in_->bad()) throw std::runtime_error(source_ + ": read error");
    return false;
  }
  ++number_;
  if (number_ == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

std::string TextInput::where() const {
  return source_ + " line " + std::to_string(number_);
}

std::string line_text(const std::string& line, const std::string& where,
                      const std::string& input_format) {
  if (input_format == "text") return line;
  const bool looks_like_object = !line.empty() && line.front() == '{';
  if (input_format == "auto" && !looks_like_object) return line;
  const nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) {
    if (input_format == "auto") return line;
    throw std::runtime_error(where + ": not a JSON object (expected {\"text\": ...})");
  }
  if (!value.contains("text") || !value["text"].is_string()) {
    throw std::runtime_error(where + ": JSON line without a string \"text\" key");
  }
  return value["text"].get<std::string>();
}

}  // namespace qdgen::cli
