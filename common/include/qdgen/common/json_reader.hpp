#pragma once
// The one way qdgen reads JSON it did not write: experiment configs, archive specs, a model's
// config.json, tokenizer.json. Every value knows where it sits, so every error is one line
// "file: key.path: expected ..., got ..." (e.g. "x.json: archive.dims[1].cells: expected an
// integer in [1, 1000000], got -3"); no nlohmann exception text reaches a user.

#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace qdgen::common {

// One line of valid UTF-8, whatever the file held (line breaks become spaces, invalid bytes
// U+FFFD).
class JsonError : public std::runtime_error {
 public:
  explicit JsonError(const std::string& message);
};

struct ReadOptions {
  // Hugging Face files write null for "not given"; qdgen's own configs call it a wrong type.
  bool null_is_absent = false;
};

class JsonReader;

// A value of a document and where it sits: the document's source (a file name; empty for
// JSON built in code) and the key path from the document's root.
class JsonValue {
 public:
  JsonValue(const nlohmann::json& value, std::string source, std::string path = "",
            ReadOptions options = {});

  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return document_->source; }
  const ReadOptions& options() const { return document_->options; }
  // "source: path", or whichever of the two there is: how errors begin.
  std::string where() const;

  // A value under this one, named path.key / path[index]; the caller found it.
  JsonValue child(const nlohmann::json& value, const std::string& key) const;
  JsonValue element(std::size_t index) const;  // json()[index] of an array

  // Typed reads: each throws "where: expected ..., got <the value>" when the value is not one.
  double number() const;  // finite
  double positive_number() const;
  double number_in(double lo, double hi) const;
  std::int64_t integer(std::int64_t lo, std::int64_t hi) const;  // "an integer in [lo, hi]"
  std::uint64_t unsigned_integer() const;                        // [0, 2^64 - 1]: seeds
  std::string string() const;
  std::string choice(const std::vector<std::string>& allowed) const;
  bool boolean() const;
  JsonReader object() const;
  // The elements of an array of min_size to max_size values; `what` is what to expect
  // otherwise, e.g. "a non-empty array of emitter objects".
  std::vector<JsonValue> array(
      const std::string& what, std::size_t min_size = 0,
      std::size_t max_size = std::numeric_limits<std::size_t>::max()) const;

  [[noreturn]] void fail(const std::string& message) const;  // "where: message"
  [[noreturn]] void expected(const std::string& what) const;

 private:
  struct Document {
    std::string source;
    ReadOptions options;
  };
  JsonValue(const nlohmann::json& value, std::shared_ptr<const Document> document,
            std::string path);

  const nlohmann::json* value_;
  std::shared_ptr<const Document> document_;
  std::string path_;
};

// One JSON object read key by key. Keys asked about (present or not) are the known keys;
// finish() refuses any other, for files whose every key qdgen defines.
class JsonReader {
 public:
  explicit JsonReader(const JsonValue& object);  // throws unless it is an object
  JsonReader(const nlohmann::json& object, std::string source, std::string path = "",
             ReadOptions options = {});

  const JsonValue& value() const { return object_; }
  std::string where() const { return object_.where(); }
  std::string key_path(const std::string& key) const;

  bool has(const std::string& key);
  std::optional<JsonValue> optional(const std::string& key);
  JsonValue required(const std::string& key);  // "where.key: missing (required key)"

  // Without a fallback the key is required.
  std::string string(const std::string& key, std::optional<std::string> fallback = {});
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     std::optional<std::string> fallback = {});
  double number(const std::string& key, std::optional<double> fallback = {});
  double positive_number(const std::string& key, std::optional<double> fallback = {});
  double number_in(const std::string& key, double lo, double hi,
                   std::optional<double> fallback = {});
  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi,
                       std::optional<std::int64_t> fallback = {});
  std::uint64_t unsigned_integer(const std::string& key,
                                 std::optional<std::uint64_t> fallback = {});
  bool boolean(const std::string& key, std::optional<bool> fallback = {});
  JsonReader object(const std::string& key);

  // Throws "where.key: unknown key (known: ...)" for the first key never asked about.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
  // "where.key: expected <what>, got <the value, or nothing>".
  [[noreturn]] void expected(const std::string& key, const std::string& what) const;

 private:
  JsonValue object_;
  std::set<std::string> known_;
};

// A value as one short line for messages (long values are cut, invalid UTF-8 replaced).
std::string describe_json(const nlohmann::json& value);
// A bound as people write it: 3600, 0.5, 1e+300.
std::string describe_number(double value);

}  // namespace qdgen::common
