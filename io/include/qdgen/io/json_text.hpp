#pragma once
// JSON text that never aborts on a string that is not UTF-8: nlohmann's strict dump throws
// type_error.316 on one. dump_json repairs every string and key with valid_utf8 (utf8.hpp),
// the same rule as every other text qdgen writes.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace qdgen::io {

std::string dump_json(const nlohmann::json& value, int indent = -1);
std::string dump_json(const nlohmann::ordered_json& value, int indent = -1);

// json::parse of text whose strings may hold invalid UTF-8 (written before this rule, or by
// another program): they are repaired rather than refused. Throws json::parse_error as parse.
nlohmann::json parse_json(std::string_view text);

// A copy with every string and object key repaired.
nlohmann::json valid_utf8_json(const nlohmann::json& value);

}  // namespace qdgen::io
