// A trained tokenizer as Hugging Face files: tokenizer.json and tokenizer_config.json.

#include <stdexcept>

#include "qdgen/inference/tokenizer_trainer.hpp"
#include "qdgen/io/atomic_file.hpp"
#include "tokenizer_trainer_split.hpp"

namespace qdgen::inference {
namespace {

using nlohmann::ordered_json;

ordered_json added_token(const std::string& content) {
  return {{"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},    {"normalized", false},  {"special", true}};
}

ordered_json token_or_null(const std::string& token) {
  return token.empty() ? ordered_json(nullptr) : ordered_json(token);
}

void refuse_existing(const std::filesystem::path& path, bool overwrite) {
  std::error_code error;
  if (!overwrite && std::filesystem::exists(path, error)) {
    throw std::runtime_error(path.string() + ": already exists (pass --overwrite to replace it)");
  }
}

}  // namespace

std::string TrainedBpeTokenizer::tokenizer_json() const {
  ordered_json added = ordered_json::array();
  for (std::size_t id = 0; id < special_count; ++id) {
    ordered_json entry = {{"id", id}};
    entry.update(added_token(tokens[id]));
    added.push_back(std::move(entry));
  }
  ordered_json vocab = ordered_json::object();
  for (std::size_t id = 0; id < tokens.size(); ++id) vocab[tokens[id]] = id;
  // "left right" strings: byte-level tokens never hold a space (it is written as U+0120).
  ordered_json merge_list = ordered_json::array();
  for (const auto& [left, right] : merges) merge_list.push_back(tokens[left] + " " + tokens[right]);

  ordered_json root;
  root["version"] = "1.0";
  root["truncation"] = nullptr;
  root["padding"] = nullptr;
  root["added_tokens"] = std::move(added);
  root["normalizer"] = nullptr;
  root["pre_tokenizer"] = trained_pre_tokenizer();
  root["post_processor"] = nullptr;
  root["decoder"] = {{"type", "ByteLevel"},
                     {"add_prefix_space", true},
                     {"trim_offsets", true},
                     {"use_regex", true}};
  root["model"] = {{"type", "BPE"},
                   {"dropout", nullptr},
                   {"unk_token", nullptr},
                   {"continuing_subword_prefix", nullptr},
                   {"end_of_word_suffix", nullptr},
                   {"fuse_unk", false},
                   {"byte_fallback", false},
                   {"ignore_merges", false},
                   {"vocab", std::move(vocab)},
                   {"merges", std::move(merge_list)}};
  return root.dump(2) + "\n";
}

std::string TrainedBpeTokenizer::tokenizer_config_json() const {
  ordered_json decoder = ordered_json::object();
  for (std::size_t id = 0; id < special_count; ++id) {
    decoder[std::to_string(id)] = added_token(tokens[id]);
  }
  ordered_json config;
  config["added_tokens_decoder"] = std::move(decoder);
  config["bos_token"] = token_or_null(bos_token);
  config["eos_token"] = token_or_null(eos_token);
  // Decoding must give back the text exactly; transformers' clean-up would drop spaces.
  config["clean_up_tokenization_spaces"] = false;
  config["tokenizer_class"] = "PreTrainedTokenizerFast";
  return config.dump(2) + "\n";
}

void check_tokenizer_output(const std::filesystem::path& path, bool overwrite) {
  if (path.filename() == "tokenizer_config.json") {
    throw std::runtime_error(path.string() +
                             ": is the name of the config written beside the tokenizer; choose "
                             "another (e.g. tokenizer.json)");
  }
  refuse_existing(path, overwrite);
  refuse_existing(path.parent_path() / "tokenizer_config.json", overwrite);
}

void save_trained_tokenizer(const TrainedBpeTokenizer& tokenizer, const std::filesystem::path& path,
                            bool overwrite) {
  check_tokenizer_output(path, overwrite);
  const std::filesystem::path folder = path.parent_path();
  const std::filesystem::path config_path = folder / "tokenizer_config.json";
  std::error_code error;
  if (!folder.empty() && !std::filesystem::is_directory(folder, error)) {
    std::filesystem::create_directories(folder, error);
    if (error) {
      throw std::runtime_error(folder.string() + ": cannot create the folder: " + error.message());
    }
  }
  const std::string json = tokenizer.tokenizer_json();
  const std::string config = tokenizer.tokenizer_config_json();
  io::AtomicFileWriter json_writer(path);
  io::AtomicFileWriter config_writer(config_path);
  json_writer.write(std::as_bytes(std::span<const char>(json)));
  config_writer.write(std::as_bytes(std::span<const char>(config)));
  // The config first: a tokenizer.json in place means both files are.
  config_writer.commit();
  json_writer.commit();
}

}  // namespace qdgen::inference
