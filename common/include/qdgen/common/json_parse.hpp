#pragma once
// Parsing JSON text into a document, with every failure one line naming the source and,
// where the parser got that far, the key it was reading: "x.json: emitters[0].sigma: the
// number 1e999 does not fit a double (at most 1.8e308)".

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace qdgen::common {

nlohmann::json parse_json(std::string_view text, const std::string& source);

// Reads and parses a file; `what` names it in "cannot open <what>" ("the config file").
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what);

// A nlohmann exception's text without its "[json.exception.type_error.302] " tag.
std::string json_exception_text(const nlohmann::json::exception& error);

}  // namespace qdgen::common
