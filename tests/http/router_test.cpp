// Routing: captures, 404 and 405 as JSON errors, handler exceptions as JSON errors.
#include "qdgen/http/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "qdgen/http/static_assets.hpp"
#include "qdgen/http/target.hpp"

namespace {

using namespace qdgen::http;

Response dispatch(const Router& router, const std::string& method, const std::string& target) {
  Request request;
  request.method = method;
  request.target = target;
  auto parsed = parse_target(target);
  request.path = parsed.path;
  request.query = parsed.query;
  return std::get<Response>(router.dispatch(request));
}

std::string error_of(const Response& response) {
  EXPECT_EQ(response.content_type, "application/json");
  return nlohmann::json::parse(response.body).at("error").get<std::string>();
}

TEST(Router, CapturesSegmentsAndPicksTheFirstMatch) {
  Router router;
  router.get("/api/runs/{id}/elites", [](const Request& r) -> Reply {
    return json_response({{"id", r.integer_param("id", 0, 9)}});
  });
  router.get("/api/runs/{id}/{what}", [](const Request& r) -> Reply {
    return json_response({{"what", r.param("what")}});
  });
  EXPECT_EQ(dispatch(router, "GET", "/api/runs/3/elites").body, R"({"id":3})");
  EXPECT_EQ(dispatch(router, "GET", "/api/runs/3/other").body, R"({"what":"other"})");
  const Response bad = dispatch(router, "GET", "/api/runs/x/elites");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(error_of(bad), "id: expected an integer in [0, 9], got 'x'");
  const Response missing = dispatch(router, "GET", "/api/runs//elites");
  EXPECT_EQ(missing.status, 404u);  // a capture never matches an empty segment
  EXPECT_EQ(error_of(missing), "no such resource: /api/runs//elites");
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router;
  router.get("/x", [](const Request&) -> Reply { return Response{}; });
  router.add("POST", "/x", [](const Request&) -> Reply { return Response{}; });
  const Response response = dispatch(router, "DELETE", "/x");
  EXPECT_EQ(response.status, 405u);
  EXPECT_EQ(error_of(response), "method DELETE is not allowed here (allowed: GET, POST)");
  ASSERT_EQ(response.headers.back().first, "Allow");
  EXPECT_EQ(response.headers.back().second, "GET, POST");
}

TEST(Router, HandlerExceptionsBecomeJsonErrors) {
  Router router;
  router.get("/gone", [](const Request&) -> Reply { throw HttpError(410, "run.sqlite: gone"); });
  router.get("/fault", [](const Request&) -> Reply { throw std::runtime_error("disk on fire"); });
  EXPECT_EQ(dispatch(router, "GET", "/gone").status, 410u);
  EXPECT_EQ(error_of(dispatch(router, "GET", "/gone")), "run.sqlite: gone");
  EXPECT_EQ(dispatch(router, "GET", "/fault").status, 500u);
  EXPECT_EQ(error_of(dispatch(router, "GET", "/fault")), "disk on fire");
}

TEST(Router, StaticAssetsByExactPathWithTheirTypes) {
  Router router;
  add_static_asset(router, "/", "<html></html>");
  add_static_asset(router, "/app.js", "1;");
  EXPECT_EQ(dispatch(router, "GET", "/").content_type, "text/html; charset=utf-8");
  EXPECT_EQ(dispatch(router, "GET", "/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(dispatch(router, "GET", "/app.js").body, "1;");
  EXPECT_EQ(dispatch(router, "GET", "/app.js/").status, 404u);
  EXPECT_EQ(dispatch(router, "GET", "/APP.JS").status, 404u);
  EXPECT_EQ(content_type_for("a.png"), "image/png");
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.bin"), "application/octet-stream");
}

TEST(Router, EventsAreFramedLineByLine) {
  EXPECT_EQ(format_event({"iteration", "{\"iteration\":3}", "3"}),
            "event: iteration\nid: 3\ndata: {\"iteration\":3}\n\n");
  EXPECT_EQ(format_event({"", "a\nb\r\nc", ""}), "data: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(format_event({"x\ny", "", ""}), "event: x y\ndata: \n\n");
}

}  // namespace
