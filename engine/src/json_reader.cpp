#include "json_reader.hpp"

#include <cmath>

namespace qdgen::engine {

std::string describe_json(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

JsonReader::JsonReader(const nlohmann::json& value, std::string path)
    : value_(value), path_(std::move(path)) {
  if (!value_.is_object())
    throw ConfigError((path_.empty() ? std::string("config") : path_) +
                      ": expected an object, got " + describe_json(value_));
}

std::string JsonReader::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool JsonReader::has(const std::string& key) const {
  return value_.contains(key);
}

void JsonReader::fail(const std::string& key, const std::string& expected) const {
  const auto it = value_.find(key);
  const std::string got = it == value_.end() ? "nothing" : describe_json(*it);
  throw ConfigError(key_path(key) + ": expected " + expected + ", got " + got);
}

const nlohmann::json* JsonReader::lookup(const std::string& key, bool required) {
  read_.insert(key);
  const auto it = value_.find(key);
  if (it == value_.end()) {
    if (required) throw ConfigError(key_path(key) + ": missing (required key)");
    return nullptr;
  }
  return &*it;
}

const nlohmann::json& JsonReader::raw(const std::string& key) {
  return *lookup(key, true);
}

std::string JsonReader::string(const std::string& key, std::optional<std::string> fallback) {
  const auto* v = lookup(key, !fallback);
  if (v == nullptr) return *fallback;
  if (!v->is_string()) fail(key, "a string");
  return v->get<std::string>();
}

std::string JsonReader::choice(const std::string& key, const std::vector<std::string>& allowed,
                               std::optional<std::string> fallback) {
  std::string options;
  for (const auto& a : allowed) options += (options.empty() ? "" : ", ") + ("\"" + a + "\"");
  const auto* v = lookup(key, !fallback);
  if (v == nullptr) return *fallback;
  if (!v->is_string()) fail(key, "one of " + options);
  const auto text = v->get<std::string>();
  for (const auto& a : allowed)
    if (a == text) return text;
  fail(key, "one of " + options);
}

double JsonReader::positive_number(const std::string& key, std::optional<double> fallback) {
  const auto* v = lookup(key, !fallback);
  if (v == nullptr) return *fallback;
  if (!v->is_number() || !(v->get<double>() > 0.0) || !std::isfinite(v->get<double>()))
    fail(key, "a positive number");
  return v->get<double>();
}

double JsonReader::number_in(const std::string& key, double lo, double hi,
                             std::optional<double> fallback) {
  const auto* v = lookup(key, !fallback);
  if (v == nullptr) return *fallback;
  const std::string expected = "a number in [" + describe_json(lo) + ", " + describe_json(hi) + "]";
  if (!v->is_number()) fail(key, expected);
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) fail(key, expected);
  return x;
}

std::int64_t JsonReader::integer_at_least(const std::string& key, std::int64_t minimum,
                                          std::optional<std::int64_t> fallback) {
  const auto* v = lookup(key, !fallback);
  if (v == nullptr) return *fallback;
  const std::string expected = "an integer >= " + std::to_string(minimum);
  if (!v->is_number_integer()) fail(key, expected);
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > std::uint64_t(INT64_MAX))
    fail(key, expected);
  const auto x = v->get<std::int64_t>();
  if (x < minimum) fail(key, expected);
  return x;
}

std::uint64_t JsonReader::unsigned_integer(const std::string& key,
                                           std::optional<std::uint64_t> fallback) {
  const auto* v = lookup(key, !fallback);
  if (v == nullptr) return *fallback;
  if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<std::int64_t>() < 0))
    fail(key, "a non-negative integer");
  return v->get<std::uint64_t>();
}

bool JsonReader::boolean(const std::string& key, std::optional<bool> fallback) {
  const auto* v = lookup(key, !fallback);
  if (v == nullptr) return *fallback;
  if (!v->is_boolean()) fail(key, "true or false");
  return v->get<bool>();
}

JsonReader JsonReader::object(const std::string& key) {
  return JsonReader(*lookup(key, true), key_path(key));
}

void JsonReader::finish() const {
  for (const auto& [key, unused] : value_.items())
    if (!read_.contains(key)) throw ConfigError(key_path(key) + ": unknown key");
}

}  // namespace qdgen::engine
