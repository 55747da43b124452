#include "qdgen/common/json_reader.hpp"

#include <charconv>
#include <cmath>

namespace qdgen::common {

namespace {

// Length of the valid UTF-8 sequence at text[at], or 0 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
std::size_t utf8_length(const std::string& text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80;  // the range of the second byte
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (at + length > text.size() || byte(at + 1) < lo || byte(at + 1) > hi) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
  return length;
}

std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8_length(text, at);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++at;
    } else if (text[at] == '\n' || text[at] == '\r' || text[at] == '\0') {
      out += ' ';
      ++at;
    } else {
      out.append(text, at, length);
      at += length;
    }
  }
  return out;
}

}  // namespace

JsonError::JsonError(const std::string& message) : std::runtime_error(one_line(message)) {}

std::string describe_json(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() <= 60) return text;
  std::size_t cut = 57;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole chars
  return text.substr(0, cut) + "...";
}

std::string describe_number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.0e15)
    return std::to_string(static_cast<std::int64_t>(value));
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

// ---- JsonValue ---------------------------------------------------------------------------

JsonValue::JsonValue(const nlohmann::json& value, std::string source, std::string path,
                     ReadOptions options)
    : JsonValue(value, std::make_shared<const Document>(Document{std::move(source), options}),
                std::move(path)) {}

JsonValue::JsonValue(const nlohmann::json& value, std::shared_ptr<const Document> document,
                     std::string path)
    : value_(&value), document_(std::move(document)), path_(std::move(path)) {}

std::string JsonValue::where() const {
  if (source().empty()) return path_.empty() ? std::string("top level") : path_;
  return path_.empty() ? source() : source() + ": " + path_;
}

JsonValue JsonValue::child(const nlohmann::json& value, const std::string& key) const {
  return JsonValue(value, document_, path_.empty() ? key : path_ + "." + key);
}

JsonValue JsonValue::element(std::size_t index) const {
  return JsonValue(value_->at(index), document_, path_ + "[" + std::to_string(index) + "]");
}

void JsonValue::fail(const std::string& message) const {
  throw JsonError(where() + ": " + message);
}

void JsonValue::expected(const std::string& what) const {
  fail("expected " + what + ", got " + describe_json(*value_));
}

double JsonValue::number() const {
  if (!value_->is_number() || !std::isfinite(value_->get<double>())) expected("a finite number");
  return value_->get<double>();
}

double JsonValue::positive_number() const {
  const double x = value_->is_number() ? value_->get<double>() : 0.0;
  if (!(x > 0.0) || !std::isfinite(x)) expected("a positive number");
  return x;
}

double JsonValue::number_in(double lo, double hi) const {
  const double x = value_->is_number() ? value_->get<double>() : std::nan("");
  if (!(x >= lo && x <= hi))
    expected("a number in [" + describe_number(lo) + ", " + describe_number(hi) + "]");
  return x;
}

std::int64_t JsonValue::integer(std::int64_t lo, std::int64_t hi) const {
  const auto out_of_range = [&] {
    expected("an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  // Parsed JSON holds non-negative integers as unsigned, JSON built in code as signed.
  std::int64_t x = 0;
  if (value_->is_number_unsigned()) {
    const auto u = value_->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) out_of_range();
    x = static_cast<std::int64_t>(u);
  } else if (value_->is_number_integer()) {
    x = value_->get<std::int64_t>();
  } else {
    out_of_range();
  }
  if (x < lo || x > hi) out_of_range();
  return x;
}

std::uint64_t JsonValue::unsigned_integer() const {
  if (value_->is_number_unsigned()) return value_->get<std::uint64_t>();
  if (value_->is_number_integer() && value_->get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(value_->get<std::int64_t>());
  expected("an integer in [0, " + std::to_string(std::numeric_limits<std::uint64_t>::max()) + "]");
}

std::string JsonValue::string() const {
  if (!value_->is_string()) expected("a string");
  return value_->get<std::string>();
}

std::string JsonValue::choice(const std::vector<std::string>& allowed) const {
  if (value_->is_string()) {
    const auto& text = value_->get_ref<const std::string&>();
    for (const auto& a : allowed)
      if (a == text) return text;
  }
  std::string options;
  for (const auto& a : allowed) options += (options.empty() ? "\"" : ", \"") + a + "\"";
  expected("one of " + options);
}

bool JsonValue::boolean() const {
  if (!value_->is_boolean()) expected("true or false");
  return value_->get<bool>();
}

JsonReader JsonValue::object() const {
  return JsonReader(*this);
}

std::vector<JsonValue> JsonValue::array(const std::string& what, std::size_t min_size,
                                        std::size_t max_size) const {
  if (!value_->is_array() || value_->size() < min_size || value_->size() > max_size) expected(what);
  std::vector<JsonValue> elements;
  elements.reserve(value_->size());
  for (std::size_t i = 0; i < value_->size(); ++i) elements.push_back(element(i));
  return elements;
}

// ---- JsonReader --------------------------------------------------------------------------

JsonReader::JsonReader(const JsonValue& object) : object_(object) {
  if (!object_.json().is_object()) object_.expected("an object");
}

JsonReader::JsonReader(const nlohmann::json& object, std::string source, std::string path,
                       ReadOptions options)
    : JsonReader(JsonValue(object, std::move(source), std::move(path), options)) {}

std::string JsonReader::key_path(const std::string& key) const {
  return object_.path().empty() ? key : object_.path() + "." + key;
}

std::optional<JsonValue> JsonReader::optional(const std::string& key) {
  known_.insert(key);
  const auto it = object_.json().find(key);
  if (it == object_.json().end() || (it->is_null() && object_.options().null_is_absent))
    return std::nullopt;
  return object_.child(*it, key);
}

bool JsonReader::has(const std::string& key) {
  return optional(key).has_value();
}

JsonValue JsonReader::required(const std::string& key) {
  auto value = optional(key);
  if (!value) fail(key, "missing (required key)");
  return *value;
}

void JsonReader::fail(const std::string& key, const std::string& message) const {
  const std::string at = key_path(key);
  throw JsonError((object_.source().empty() ? at : object_.source() + ": " + at) + ": " + message);
}

void JsonReader::expected(const std::string& key, const std::string& what) const {
  const auto it = object_.json().find(key);
  if (it != object_.json().end()) object_.child(*it, key).expected(what);
  fail(key, "expected " + what + ", got nothing");
}

std::string JsonReader::string(const std::string& key, std::optional<std::string> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->string() : *fallback;
}

std::string JsonReader::choice(const std::string& key, const std::vector<std::string>& allowed,
                               std::optional<std::string> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->choice(allowed) : *fallback;
}

double JsonReader::number(const std::string& key, std::optional<double> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->number() : *fallback;
}

double JsonReader::positive_number(const std::string& key, std::optional<double> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->positive_number() : *fallback;
}

double JsonReader::number_in(const std::string& key, double lo, double hi,
                             std::optional<double> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->number_in(lo, hi) : *fallback;
}

std::int64_t JsonReader::integer(const std::string& key, std::int64_t lo, std::int64_t hi,
                                 std::optional<std::int64_t> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->integer(lo, hi) : *fallback;
}

std::uint64_t JsonReader::unsigned_integer(const std::string& key,
                                           std::optional<std::uint64_t> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->unsigned_integer() : *fallback;
}

bool JsonReader::boolean(const std::string& key, std::optional<bool> fallback) {
  const auto value = fallback ? optional(key) : required(key);
  return value ? value->boolean() : *fallback;
}

JsonReader JsonReader::object(const std::string& key) {
  return required(key).object();
}

void JsonReader::finish() const {
  for (const auto& [key, unused] : object_.json().items()) {
    if (known_.contains(key)) continue;
    std::string list;
    for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
    fail(key, "unknown key (known: " + list + ")");
  }
}

}  // namespace qdgen::common
