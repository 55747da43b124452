// qdgen tokenize: text to token ids and back, with any tokenizer qdgen can load.

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "commands.hpp"
#include "qdgen/inference/tokenizer.hpp"
#include "qdgen/io/output_checks.hpp"
#include "qdgen/io/utf8.hpp"
#include "text_input.hpp"

namespace qdgen::cli {
namespace {

using inference::TokenId;
using nlohmann::json;

struct TokenizeOptions {
  std::string tokenizer;
  std::string input;  // empty or "-": stdin
  std::string format = "text";
  std::string input_format = "auto";
  bool decode = false;
  bool add_special_tokens = false;
  bool keep_special_tokens = false;
};

std::vector<TokenId> ids_of_line(const std::string& line, const std::string& where,
                                 std::size_t vocab_size) {
  std::vector<TokenId> ids;
  const auto add = [&](long long id, const std::string& as_written) {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_size) {
      throw std::runtime_error(where + ": token id " + as_written +
                               " is outside the vocabulary (ids 0.." +
                               std::to_string(vocab_size - 1) + ")");
    }
    ids.push_back(static_cast<TokenId>(id));
  };
  const auto first = line.find_first_not_of(" \t\r");
  if (first != std::string::npos && (line[first] == '[' || line[first] == '{')) {
    json value = json::parse(line, nullptr, false);
    if (value.is_object() && value.contains("ids")) value = value["ids"];
    if (value.is_discarded() || !value.is_array()) {
      throw std::runtime_error(where + ": expected a JSON array of token ids or {\"ids\": [...]}");
    }
    for (const auto& id : value) {
      if (!id.is_number_integer()) {
        throw std::runtime_error(where + ": '" + id.dump() +
                                 "' is not a token id (expected integers)");
      }
      add(id.get<long long>(), id.dump());
    }
    return ids;
  }
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    std::size_t used = 0;
    long long id = -1;
    try {
      id = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size()) {
      throw std::runtime_error(where + ": '" + word +
                               "' is not a token id (expected integers separated by spaces or a "
                               "JSON array)");
    }
    add(id, word);
  }
  return ids;
}

std::string join_ids(const std::vector<TokenId>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? " " : "") + std::to_string(ids[i]);
  return out;
}

void run_tokenize(const TokenizeOptions& options) {
  const auto tokenizer = inference::load_tokenizer(options.tokenizer);
  TextInput input(options.input);
  const bool as_json = options.format == "json";
  std::string line;
  while (input.next(line)) {
    const std::string where = input.where();
    if (options.decode) {
      const auto ids = ids_of_line(line, where, tokenizer->vocab_size());
      // Ids can end mid-character: the text shown is valid UTF-8 (qdgen/io/utf8.hpp).
      const std::string text = io::valid_utf8(tokenizer->decode(ids, !options.keep_special_tokens));
      if (as_json) {
        std::cout << json{{"ids", ids}, {"text", text}}.dump() << "\n";
      } else {
        std::cout << text << "\n";
      }
    } else {
      const std::string text = line_text(line, where, options.input_format);
      const auto ids = tokenizer->encode(text, options.add_special_tokens);
      if (as_json) {
        std::cout << json{{"text", io::valid_utf8(text)}, {"ids", ids}}.dump() << "\n";
      } else {
        std::cout << join_ids(ids) << "\n";
      }
    }
    // Stop at the first failed write (a full disk, a closed pipe), not at the end of the input.
    io::check_written(std::cout, "standard output");
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand(
      "tokenize",
      "Turn text into token ids (or ids back into text) with a tokenizer.json or a llama2.c "
      "tokenizer.bin.");
  cmd->footer(
      "Input: one item per line, from INPUT or stdin. Encoding reads plain text lines or JSONL\n"
      "lines {\"text\": ...}; decoding reads ids separated by spaces, a JSON array, or\n"
      "{\"ids\": [...]}. Output: one line per input line.\n\n"
      "Examples:\n"
      "  echo 'Hello world' | qdgen tokenize --tokenizer llama2/tokenizer.json\n"
      "      15043 3186\n"
      "  echo '15043 3186' | qdgen tokenize --tokenizer llama2/tokenizer.json --decode\n"
      "      Hello world\n"
      "  qdgen tokenize --tokenizer tokenizer.bin --add-special-tokens --format json "
      "prompts.jsonl\n");
  cmd->add_option("--tokenizer", options->tokenizer,
                  "tokenizer.json (Hugging Face) or tokenizer.bin (llama2.c)")
      ->required();
  cmd->add_option("INPUT", options->input, "input file (default: stdin; '-' also means stdin)");
  cmd->add_flag("--decode", options->decode, "read token ids and print the text");
  cmd->add_option("--format", options->format,
                  "text: ids space-separated (or the decoded text); json: one JSON object a line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--input-format", options->input_format, kInputFormatHelp)
      ->check(CLI::IsMember({"auto", "text", "jsonl"}))
      ->capture_default_str();
  cmd->add_flag("--add-special-tokens", options->add_special_tokens,
                "add the tokenizer's special tokens (e.g. BOS) when encoding");
  cmd->add_flag("--keep-special-tokens", options->keep_special_tokens,
                "print special tokens (e.g. <s>) when decoding instead of skipping them");
  cmd->callback([options] { run_tokenize(*options); });
}

}  // namespace qdgen::cli
