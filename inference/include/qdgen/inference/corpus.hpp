#pragma once
// Training corpora as documents, read from fortune files (records between lines holding only
// "%"), plain text (documents separated by blank lines) or JSONL (one {"text": ...} a line).
// The tokenizer and model trainers share it. Errors are std::runtime_error with one line
// naming the file (and the line) at fault.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qdgen::inference {

enum class CorpusFormat { kAuto, kFortune, kText, kJsonl };

// "auto", "fortune", "text" or "jsonl"; throws naming the value otherwise.
CorpusFormat parse_corpus_format(std::string_view name);
// auto: .jsonl files are JSONL; otherwise a first non-blank line that starts with '{' means
// JSONL, a line holding only "%" means fortune, and anything else is plain text.
CorpusFormat detect_corpus_format(const std::filesystem::path& file, std::string_view contents);

struct CorpusDocument {
  std::string text;        // lines joined by "\n", without a final newline
  std::size_t file_index;  // into the list of files read
  std::size_t line;        // the document's first line in its file, from 1
  // A hash of the text alone: a document repeated anywhere has the same id, so a held-out
  // split by id (is_held_out) keeps every copy on the same side.
  std::uint64_t id;
};

// The files a list of corpus inputs stands for: a file itself; a folder its regular files in
// name order (not its subfolders), without fortune index files (*.dat); a file met again
// (a link such as fortunes' *.u8 to a file already listed) only once. Throws naming an input
// that does not exist.
std::vector<std::filesystem::path> expand_corpus_inputs(
    std::span<const std::filesystem::path> inputs);

// Reads the files in order (each in `format`, or as detected). Throws when a file cannot be
// read or holds no document, or when a JSONL line is not an object with a string "text".
std::vector<CorpusDocument> read_corpus(std::span<const std::filesystem::path> files,
                                        CorpusFormat format);

// Whether a document belongs to a held-out share `fraction` (0..1) of a corpus: decided by
// its id alone, so the split does not depend on the order or number of files.
bool is_held_out(std::uint64_t document_id, double fraction);

}  // namespace qdgen::inference
