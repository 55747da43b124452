// Writes the browser tests' model: a tiny random Llama (tests/common/random_llama.hpp) as a
// Hugging Face folder with the Llama 2 tokenizer, so that `qdgen run` of a text config runs
// for real in seconds, with no download.
//   qdgen_write_tiny_model FOLDER   (writes FOLDER/hf; needs QDGEN_SHARED_DATA's tokenizer)
#include <filesystem>
#include <iostream>

#include "random_llama.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: qdgen_write_tiny_model FOLDER\n";
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path folder = argv[1];
  const fs::path tokenizer = fs::path(QDGEN_SHARED_DATA) / "tokenizers/llama2/tokenizer.json";
  if (!fs::exists(tokenizer)) {
    std::cerr << "qdgen_write_tiny_model: " << tokenizer.string() << ": no such file\n";
    return 1;
  }
  auto config = qdgen::testing::tiny_llama_config();
  config.vocab_size = 32000;  // the Llama 2 tokenizer's
  config.max_position_embeddings = 512;
  fs::create_directories(folder);
  const fs::path model = qdgen::testing::write_random_llama(folder, config, 5).hf_folder;
  fs::copy_file(tokenizer, model / "tokenizer.json", fs::copy_options::overwrite_existing);
  std::cout << model.string() << "\n";
  return 0;
}
