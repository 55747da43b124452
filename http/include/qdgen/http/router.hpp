#pragma once
// Routes by method and path pattern. A pattern is a path whose segments are literals or
// "{name}" captures ("/api/runs/{id}/elites"); a capture matches one non-empty segment. A path
// no route matches gets 404, a path matched only with other methods 405 (with Allow), both
// as JSON errors. Handlers may throw HttpError for a 4xx; any other exception is a 500 whose
// body carries its message.

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "qdgen/http/event_stream.hpp"
#include "qdgen/http/request.hpp"
#include "qdgen/http/response.hpp"

namespace qdgen::http {

using Reply = std::variant<Response, EventStream>;
using Handler = std::function<Reply(const Request&)>;

class Router {
 public:
  // The first route added that matches wins.
  void add(std::string method, const std::string& pattern, Handler handler);
  void get(const std::string& pattern, Handler handler) { add("GET", pattern, std::move(handler)); }

  // Fills request.params from the matching route and calls its handler; never throws.
  Reply dispatch(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for a capture
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace qdgen::http
