#pragma once
// What a route handler answers: a whole response (status, type, body, extra headers) or a
// stream of server-sent events (event_stream.hpp).

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace qdgen::http {

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond type and length
};

// `value` as application/json (invalid UTF-8 in its strings becomes U+FFFD, never a throw).
Response json_response(const nlohmann::json& value, unsigned status = 200);
// {"error": message} with `status`: every refusal the server or a handler makes.
Response json_error(unsigned status, const std::string& message);

}  // namespace qdgen::http
