#pragma once
// Reads one JSON object of a config, naming the full key path in every error
// ("emitters[2].sigma: expected a positive number, got \"x\"") and rejecting unknown keys.

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace qdgen::engine {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JsonReader {
 public:
  // Throws unless `value` is an object.
  JsonReader(const nlohmann::json& value, std::string path);

  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const;
  bool has(const std::string& key) const;
  const nlohmann::json& raw(const std::string& key);  // required, any type

  std::string string(const std::string& key, std::optional<std::string> fallback = {});
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     std::optional<std::string> fallback = {});
  double positive_number(const std::string& key, std::optional<double> fallback = {});
  double number_in(const std::string& key, double lo, double hi,
                   std::optional<double> fallback = {});
  std::int64_t integer_at_least(const std::string& key, std::int64_t minimum,
                                std::optional<std::int64_t> fallback = {});
  std::uint64_t unsigned_integer(const std::string& key,
                                 std::optional<std::uint64_t> fallback = {});
  bool boolean(const std::string& key, std::optional<bool> fallback = {});
  JsonReader object(const std::string& key);

  // Throws for any key not read so far.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  const nlohmann::json* lookup(const std::string& key, bool required);
  const nlohmann::json& value_;
  std::string path_;
  std::set<std::string> read_;
};

// "expected ..., got <value>" text for a JSON value, short enough for one line.
std::string describe_json(const nlohmann::json& value);

}  // namespace qdgen::engine
