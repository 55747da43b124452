// Training corpora: fortune files, plain text and JSONL, read into documents.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "qdgen/inference/corpus.hpp"

namespace qdgen::inference {
namespace {

struct Line {
  std::string_view text;
  std::size_t number;  // from 1
};

std::vector<Line> split_lines(std::string_view contents) {
  std::vector<Line> lines;
  std::size_t start = 0;
  for (std::size_t number = 1; start < contents.size(); ++number) {
    std::size_t end = contents.find('\n', start);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = contents.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({line, number});
    start = end + 1;
  }
  return lines;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\f\v\r") == std::string_view::npos;
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// One document from lines [begin, end), blank lines at either end left out.
void add_document(const std::vector<Line>& lines, std::size_t begin, std::size_t end,
                  std::size_t file_index, std::vector<CorpusDocument>& out) {
  while (begin < end && is_blank(lines[begin].text)) ++begin;
  while (end > begin && is_blank(lines[end - 1].text)) --end;
  if (begin == end) return;
  std::string text;
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) text.push_back('\n');
    text.append(lines[i].text);
  }
  const std::uint64_t id = fnv1a(text);
  out.push_back({std::move(text), file_index, lines[begin].number, id});
}

void read_fortunes(const std::vector<Line>& lines, std::size_t file_index,
                   std::vector<CorpusDocument>& out) {
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    if (i == lines.size() || lines[i].text == "%") {
      add_document(lines, begin, i, file_index, out);
      begin = i + 1;
    }
  }
}

void read_paragraphs(const std::vector<Line>& lines, std::size_t file_index,
                     std::vector<CorpusDocument>& out) {
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    if (i == lines.size() || is_blank(lines[i].text)) {
      add_document(lines, begin, i, file_index, out);
      begin = i + 1;
    }
  }
}

void read_jsonl(const std::vector<Line>& lines, const std::string& file, std::size_t file_index,
                std::vector<CorpusDocument>& out) {
  for (const Line& line : lines) {
    if (is_blank(line.text)) continue;
    const std::string where = file + " line " + std::to_string(line.number);
    const auto value = nlohmann::json::parse(line.text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || !value.is_object()) {
      throw std::runtime_error(where + ": not a JSON object (expected {\"text\": ...})");
    }
    const auto text = value.find("text");
    if (text == value.end() || !text->is_string()) {
      throw std::runtime_error(where + ": JSON line without a string \"text\" key");
    }
    std::string document = text->get<std::string>();
    if (document.empty()) continue;
    const std::uint64_t id = fnv1a(document);
    out.push_back({std::move(document), file_index, line.number, id});
  }
}

std::string read_file(const std::filesystem::path& file) {
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) {
    throw std::runtime_error(file.string() + ": is a folder (expected a corpus file)");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw std::runtime_error(file.string() + ": cannot read: " + std::strerror(errno));
  return contents.str();
}

const char* format_name(CorpusFormat format) {
  switch (format) {
    case CorpusFormat::kFortune:
      return "fortune";
    case CorpusFormat::kText:
      return "text";
    case CorpusFormat::kJsonl:
      return "jsonl";
    case CorpusFormat::kAuto:
      break;
  }
  return "auto";
}

}  // namespace

CorpusFormat parse_corpus_format(std::string_view name) {
  if (name == "auto") return CorpusFormat::kAuto;
  if (name == "fortune") return CorpusFormat::kFortune;
  if (name == "text") return CorpusFormat::kText;
  if (name == "jsonl") return CorpusFormat::kJsonl;
  throw std::runtime_error("unknown corpus format '" + std::string(name) +
                           "' (expected auto, fortune, text or jsonl)");
}

CorpusFormat detect_corpus_format(const std::filesystem::path& file, std::string_view contents) {
  if (file.extension() == ".jsonl") return CorpusFormat::kJsonl;
  const auto lines = split_lines(contents);
  for (const Line& line : lines) {
    if (is_blank(line.text)) continue;
    if (line.text.front() == '{') return CorpusFormat::kJsonl;
    break;
  }
  for (const Line& line : lines) {
    if (line.text == "%") return CorpusFormat::kFortune;
  }
  return CorpusFormat::kText;
}

std::vector<std::filesystem::path> expand_corpus_inputs(
    std::span<const std::filesystem::path> inputs) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::set<fs::path> seen;
  const auto add = [&](const fs::path& file) {
    if (seen.insert(fs::weakly_canonical(file)).second) files.push_back(file);
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

std::vector<CorpusDocument> read_corpus(std::span<const std::filesystem::path> files,
                                        CorpusFormat format) {
  if (files.empty()) throw std::runtime_error("no corpus files given");
  std::vector<CorpusDocument> documents;
  for (std::size_t index = 0; index < files.size(); ++index) {
    const auto& file = files[index];
    const std::string contents = read_file(file);
    const CorpusFormat used =
        format == CorpusFormat::kAuto ? detect_corpus_format(file, contents) : format;
    if (contents.empty()) {
      throw std::runtime_error(file.string() + ": empty file (expected " + format_name(used) +
                               " documents)");
    }
    const std::size_t before = documents.size();
    const auto lines = split_lines(contents);
    switch (used) {
      case CorpusFormat::kFortune:
        read_fortunes(lines, index, documents);
        break;
      case CorpusFormat::kJsonl:
        read_jsonl(lines, file.string(), index, documents);
        break;
      case CorpusFormat::kText:
      case CorpusFormat::kAuto:
        read_paragraphs(lines, index, documents);
        break;
    }
    if (documents.size() == before) {
      throw std::runtime_error(file.string() + ": no documents in it (read as " +
                               format_name(used) + "; every record or line is blank)");
    }
  }
  return documents;
}

bool is_held_out(std::uint64_t document_id, double fraction) {
  // splitmix64's finaliser: FNV-1a's low bits alone are not uniform enough for a share.
  std::uint64_t z = document_id + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 < fraction;
}

}  // namespace qdgen::inference
