#include "document_reader.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace qdgen::inference::training {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

// Lines without their ending ("\n" or "\r\n").
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    begin = end + 1;
  }
  return lines;
}

// Joins lines [first, last) after dropping blank lines at either end.
void add_document(const std::vector<std::string>& lines, std::size_t first, std::size_t last,
                  std::vector<std::string>& documents) {
  while (first < last && is_blank(lines[first])) ++first;
  while (last > first && is_blank(lines[last - 1])) --last;
  if (first == last) return;
  std::string document;
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) document += '\n';
    document += lines[i];
  }
  documents.push_back(std::move(document));
}

void read_jsonl(const fs::path& path, const std::string& text,
                std::vector<std::string>& documents) {
  const auto lines = split_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_blank(lines[i])) continue;
    const std::string where = path.string() + ":" + std::to_string(i + 1);
    const auto record = nlohmann::json::parse(lines[i], nullptr, false);
    if (record.is_discarded()) throw std::runtime_error(where + ": not a JSON object");
    if (!record.is_object() || !record.contains("text") || !record["text"].is_string()) {
      throw std::runtime_error(where + ": expected an object with a string \"text\"");
    }
    std::string document = record["text"].get<std::string>();
    if (!is_blank(document)) documents.push_back(std::move(document));
  }
}

void read_records(const std::string& text, std::vector<std::string>& documents) {
  const auto lines = split_lines(text);
  const bool fortune =
      std::any_of(lines.begin(), lines.end(), [](const std::string& line) { return line == "%"; });
  std::size_t first = 0;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    const bool boundary = i == lines.size() || (fortune ? lines[i] == "%" : is_blank(lines[i]));
    if (!boundary) continue;
    add_document(lines, first, i, documents);
    first = i + 1;
  }
}

// Files in the order they are read; a folder's files sorted by name.
std::vector<fs::path> expand_inputs(const std::vector<fs::path>& inputs) {
  std::vector<fs::path> files;
  std::set<fs::path> seen;
  const auto add = [&](const fs::path& file) {
    const fs::path canonical = fs::weakly_canonical(file);
    if (seen.insert(canonical).second) files.push_back(file);
  };
  for (const fs::path& input : inputs) {
    std::error_code error;
    const auto status = fs::status(input, error);
    if (error || !fs::exists(status)) {
      throw std::runtime_error(input.string() + ": no such file or folder");
    }
    if (!fs::is_directory(status)) {
      add(input);
      continue;
    }
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(input)) {
      if (entry.is_regular_file() && entry.path().extension() != ".dat") {
        entries.push_back(entry.path());
      }
    }
    std::sort(entries.begin(), entries.end());
    for (const fs::path& entry : entries) add(entry);
  }
  return files;
}

}  // namespace

std::vector<std::string> read_training_documents(const std::vector<fs::path>& inputs) {
  std::vector<std::string> documents;
  for (const fs::path& file : expand_inputs(inputs)) {
    const std::string text = read_file(file);
    if (file.extension() == ".jsonl") {
      read_jsonl(file, text, documents);
    } else {
      read_records(text, documents);
    }
  }
  return documents;
}

}  // namespace qdgen::inference::training
