#include "qdgen/http/static_assets.hpp"

#include <memory>
#include <utility>

namespace qdgen::http {

std::string content_type_for(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  const std::string_view extension = dot == std::string_view::npos ? "" : name.substr(dot);
  if (extension == ".html" || name.empty() || name.back() == '/') return "text/html; charset=utf-8";
  if (extension == ".js") return "text/javascript; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".svg") return "image/svg+xml";
  if (extension == ".png") return "image/png";
  if (extension == ".json") return "application/json";
  if (extension == ".txt") return "text/plain; charset=utf-8";
  if (extension == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

void add_static_asset(Router& router, const std::string& path, std::string body,
                      std::string content_type) {
  Response response;
  response.content_type = content_type.empty() ? content_type_for(path) : std::move(content_type);
  response.body = std::move(body);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Shared by every request: handlers run on several threads, each takes a copy.
  auto shared = std::make_shared<const Response>(std::move(response));
  router.get(path, [shared](const Request&) -> Reply { return *shared; });
}

}  // namespace qdgen::http
