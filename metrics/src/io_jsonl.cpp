#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "input_file.hpp"
#include "qdgen/metrics/io.hpp"

namespace qdgen::metrics {

std::vector<std::string> read_jsonl_texts(const std::filesystem::path& file) {
  std::ifstream stream = detail::open_input(file);
  std::vector<std::string> texts;
  std::string line;
  for (std::size_t line_number = 1; std::getline(stream, line); ++line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto at_line = [&](const std::string& message) {
      return std::runtime_error(
          detail::at_file(file, "line " + std::to_string(line_number) + ": " + message));
    };
    const nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) throw at_line("is not valid JSON; expected {\"text\": \"...\"}");
    if (!object.is_object() || !object.contains("text") || !object["text"].is_string()) {
      throw at_line("expected an object with a string field \"text\"");
    }
    texts.push_back(object["text"].get<std::string>());
  }
  if (stream.bad()) throw std::runtime_error(detail::at_file(file, "read error"));
  if (texts.empty()) {
    throw std::runtime_error(
        detail::at_file(file, "has no texts; expected JSONL lines {\"text\": ...}"));
  }
  return texts;
}

}  // namespace qdgen::metrics
