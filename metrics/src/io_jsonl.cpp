#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "input_file.hpp"
#include "mapped_file.hpp"
#include "qdgen/metrics/io.hpp"
#include "visible_text.hpp"

namespace qdgen::metrics {

std::vector<std::string> read_jsonl_texts(const std::filesystem::path& file) {
  const detail::MappedFile mapped(file);
  std::string_view text(reinterpret_cast<const char*>(mapped.bytes().data()),
                        mapped.bytes().size());
  if (text.starts_with(detail::kUtf8Bom)) text.remove_prefix(detail::kUtf8Bom.size());
  std::vector<std::string> texts;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t newline = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, newline - start);
    start = newline + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
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
  if (texts.empty()) {
    throw std::runtime_error(
        detail::at_file(file, "has no texts; expected JSONL lines {\"text\": ...}"));
  }
  return texts;
}

}  // namespace qdgen::metrics
