#include "qdgen/http/response.hpp"

namespace qdgen::http {

Response json_response(const nlohmann::json& value, unsigned status) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  // Texts from a run may hold invalid UTF-8 (a model stopped mid-character): never a throw.
  response.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

Response json_error(unsigned status, const std::string& message) {
  return json_response({{"error", message}}, status);
}

}  // namespace qdgen::http
