#pragma once
// The two tokenizer families behind load_tokenizer(); it reads the file and picks one.

#include <filesystem>
#include <memory>
#include <string>

#include "qdgen/inference/tokenizer.hpp"

namespace qdgen::inference {

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::filesystem::path& path,
                                             const std::string& contents);
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::filesystem::path& path,
                                                  const std::string& contents);

}  // namespace qdgen::inference
