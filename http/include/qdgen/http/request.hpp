#pragma once
// What a route handler sees of a request, already checked: the method, the path as decoded
// segments, the query, the route's captured parameters, the headers and the body.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qdgen::http {

// Thrown by a handler (or the server) for a request it refuses: the client gets `status`
// with the JSON body {"error": message}.
class HttpError : public std::runtime_error {
 public:
  HttpError(unsigned status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  unsigned status() const { return status_; }

 private:
  unsigned status_;
};

struct Request {
  std::string method;             // "GET", "POST", ... as sent
  std::string target;             // the request target as sent (path and query, still encoded)
  std::vector<std::string> path;  // decoded segments: "/a/b%20c" -> {"a", "b c"}
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> params;  // captured by the route: "{id}" -> "id"
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  // The header's value (name in any case), or none.
  std::optional<std::string> header(std::string_view name) const;
  // A captured route parameter; the route guarantees it exists.
  const std::string& param(const std::string& name) const;
  // The parameter or query value `name` as an integer in [low, high], decimal digits only;
  // else HttpError 400 naming it: "id: expected an integer in [0, 9], got 'x'".
  std::int64_t integer_param(const std::string& name, std::int64_t low, std::int64_t high) const;
  std::optional<std::int64_t> integer_query(const std::string& name, std::int64_t low,
                                            std::int64_t high) const;
};

// `text` as an integer in [low, high] (decimal digits, an optional leading minus), else
// HttpError 400 "<what>: expected an integer in [low, high], got '<text>'".
std::int64_t parse_integer(std::string_view text, std::string_view what, std::int64_t low,
                           std::int64_t high);

}  // namespace qdgen::http
