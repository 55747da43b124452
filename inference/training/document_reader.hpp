#pragma once
// The training corpus as documents. A minimal reader of its own until the shared corpus
// reader of inference/formats lands; training only needs read_training_documents().

#include <filesystem>
#include <string>
#include <vector>

namespace qdgen::inference::training {

// Each file by its kind: JSONL (*.jsonl: one {"text": ...} object a line), a fortune file
// (a line holding only "%" separates records), or plain text (documents separated by blank
// lines). A folder stands for its regular files in name order, skipping fortune index files
// (*.dat) and links to files already read. Documents are trimmed of surrounding blank
// lines; empty ones are dropped. Throws naming the file (missing, unreadable, bad JSONL line).
std::vector<std::string> read_training_documents(const std::vector<std::filesystem::path>& inputs);

}  // namespace qdgen::inference::training
