#include "qdgen/http/router.hpp"

#include <exception>

#include "qdgen/http/target.hpp"

namespace qdgen::http {

namespace {

bool is_capture(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(std::string method, const std::string& pattern, Handler handler) {
  // Patterns are the program's own: parsed as a target so that they match what requests decode to.
  routes_.push_back({std::move(method), parse_target(pattern).path, std::move(handler)});
}

Reply Router::dispatch(Request& request) const {
  std::string allowed;
  for (const Route& route : routes_) {
    if (route.segments.size() != request.path.size()) continue;
    std::map<std::string, std::string> params;
    bool matches = true;
    for (std::size_t i = 0; i < route.segments.size() && matches; ++i) {
      const std::string& segment = route.segments[i];
      if (is_capture(segment)) {
        matches = !request.path[i].empty();
        params[segment.substr(1, segment.size() - 2)] = request.path[i];
      } else {
        matches = segment == request.path[i];
      }
    }
    if (!matches) continue;
    if (route.method != request.method) {
      if (allowed.find(route.method) == std::string::npos)
        allowed += (allowed.empty() ? "" : ", ") + route.method;
      continue;
    }
    request.params = std::move(params);
    try {
      return route.handler(request);
    } catch (const HttpError& error) {
      return json_error(error.status(), error.what());
    } catch (const std::exception& error) {
      return json_error(500, error.what());
    }
  }
  if (!allowed.empty()) {
    Response response = json_error(
        405, "method " + request.method + " is not allowed here (allowed: " + allowed + ")");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return json_error(404, "no such resource: " + request.target);
}

}  // namespace qdgen::http
