#include "qdgen/io/json_text.hpp"

#include "qdgen/io/utf8.hpp"

namespace qdgen::io {
namespace {

template <typename Json>
Json repaired(const Json& value) {
  if (value.is_string()) return valid_utf8(value.template get_ref<const std::string&>());
  if (value.is_array()) {
    Json array = Json::array();
    for (const Json& item : value) array.push_back(repaired(item));
    return array;
  }
  if (value.is_object()) {
    Json object = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it)
      object[valid_utf8(it.key())] = repaired(it.value());
    return object;
  }
  return value;
}

template <typename Json>
std::string dump(const Json& value, int indent) {
  try {
    return value.dump(indent);
  } catch (const nlohmann::json::type_error& e) {
    if (e.id != 316) throw;  // 316: invalid UTF-8 in a string
    return repaired(value).dump(indent);
  }
}

}  // namespace

std::string dump_json(const nlohmann::json& value, int indent) {
  return dump(value, indent);
}

std::string dump_json(const nlohmann::ordered_json& value, int indent) {
  return dump(value, indent);
}

nlohmann::json parse_json(std::string_view text) {
  if (is_valid_utf8(text)) return nlohmann::json::parse(text);
  return nlohmann::json::parse(valid_utf8(text));
}

nlohmann::json valid_utf8_json(const nlohmann::json& value) {
  return repaired(value);
}

}  // namespace qdgen::io
