#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "tokenizer_loaders.hpp"

namespace qdgen::inference {

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw std::runtime_error(path.string() +
                             ": is a folder; expected a tokenizer.json or tokenizer.bin file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(path.string() + ": cannot open tokenizer file (" +
                             std::generic_category().message(errno) + ")");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string contents = std::move(buffer).str();
  if (contents.empty()) throw std::runtime_error(path.string() + ": tokenizer file is empty");
  // tokenizer.json is a JSON object; tokenizer.bin starts with a small binary integer.
  const auto first = contents.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && contents[first] == '{')
    return load_hf_tokenizer(path, contents);
  return load_llama2c_tokenizer(path, contents);
}

}  // namespace qdgen::inference
