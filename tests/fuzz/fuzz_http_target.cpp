// A request target as the HTTP server reads it off the network (qdgen/http/target.hpp): split,
// decoded and checked, then routed as the dashboard routes it (captures, integer parameters,
// a query integer). Beyond a clean refusal, every accepted path must hold no segment that
// could leave what the server serves: ".", "..", or one with '/', '\' or NUL.
#include <cstdlib>
#include <limits>

#include "fuzz_support.hpp"
#include "qdgen/http/router.hpp"
#include "qdgen/http/target.hpp"

namespace {

qdgen::http::Router dashboard_like_router() {
  using namespace qdgen::http;
  Router router;
  router.get("/api/runs/{id}/iterations", [](const Request& request) -> Reply {
    request.integer_param("id", 0, 9);
    request.integer_query("since", -1, std::numeric_limits<std::int64_t>::max());
    return json_response({{"ok", true}});
  });
  router.get("/api/runs/{id}/candidates/{cid}", [](const Request& request) -> Reply {
    request.integer_param("cid", 0, std::numeric_limits<std::int64_t>::max());
    return json_response({{"cid", request.param("cid")}});
  });
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const qdgen::http::Router router = dashboard_like_router();
  const std::string_view text = qdgen::fuzz::as_text(data, size);
  qdgen::fuzz::expect_clean_failure_or_success([&] {
    const qdgen::http::Target target = qdgen::http::parse_target(text);
    for (const std::string& segment : target.path)
      if (segment == "." || segment == ".." ||
          segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)
        std::abort();
    qdgen::http::Request request;
    request.method = "GET";
    request.target = std::string(text);
    request.path = target.path;
    request.query = target.query;
    router.dispatch(request);  // answers every request, never throws
  });
  return 0;
}
