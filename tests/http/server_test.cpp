// The server over real loopback TCP: keep-alive, JSON errors for what does not parse or is
// too big, the Host check, event streams, stopping with streams open, start-up failures.
#include "qdgen/http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_client.hpp"
#include "qdgen/http/static_assets.hpp"

namespace {

using namespace qdgen::http;
using qdgen_test::http_get;
using qdgen_test::HttpConnection;
using qdgen_test::send_raw;

std::string error_of(const qdgen_test::HttpReply& reply) {
  EXPECT_EQ(reply.headers.count("content-type") ? reply.headers.at("content-type") : "",
            "application/json")
      << reply.raw;
  return nlohmann::json::parse(reply.body).at("error").get<std::string>();
}

// Set once /slow's handler runs, so a test stops the server with that request truly in flight
// (a fixed wait would miss it on a loaded machine).
std::atomic<bool> slow_began{false};

Router test_router(std::atomic<int>* ticks = nullptr) {
  Router router;
  add_static_asset(router, "/", "<html>home</html>");
  router.get("/echo/{word}", [](const Request& r) -> Reply {
    return json_response({{"word", r.param("word")}, {"query", r.query}});
  });
  router.add("POST", "/body", [](const Request& r) -> Reply {
    return json_response({{"bytes", r.body.size()}});
  });
  // Counts to three, an event per poll, then ends the stream.
  router.get("/count", [ticks](const Request&) -> Reply {
    auto n = std::make_shared<int>(0);
    return EventStream{[n, ticks](std::vector<Event>& out) {
                         if (ticks) ++*ticks;
                         ++*n;
                         out.push_back({"tick", std::to_string(*n), std::to_string(*n)});
                         return *n < 3;
                       },
                       std::chrono::milliseconds(20)};
  });
  // Answers after a while: a request in flight when the server stops.
  router.get("/slow", [](const Request&) -> Reply {
    slow_began = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return json_response({{"slow", true}});
  });
  // Never sends anything: a stream that only a stop ends.
  router.get("/quiet", [ticks](const Request&) -> Reply {
    return EventStream{[ticks](std::vector<Event>&) {
                         if (ticks) ++*ticks;
                         return true;
                       },
                       std::chrono::milliseconds(20)};
  });
  return router;
}

class HttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(ServerOptions{}, test_router(&ticks_));
    server_->start();
    port_ = server_->port();
  }
  std::atomic<int> ticks_{0};
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(HttpServer, ServesAssetsAndRoutesOnAFreeLoopbackPort) {
  EXPECT_NE(port_, 0);
  EXPECT_TRUE(server_->loopback());
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(port_) + "/");
  const auto home = http_get(port_, "/");
  EXPECT_EQ(home.status, 200);
  EXPECT_EQ(home.body, "<html>home</html>");
  EXPECT_EQ(home.headers.at("content-type"), "text/html; charset=utf-8");
  const auto echo = http_get(port_, "/echo/a%20b?x=1");
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(nlohmann::json::parse(echo.body),
            nlohmann::json({{"word", "a b"}, {"query", {{"x", "1"}}}}));
  const auto posted = send_raw(port_,
                               "POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                               "Connection: close\r\n\r\nhello");
  EXPECT_EQ(posted.body, R"({"bytes":5})");
}

TEST_F(HttpServer, KeepsConnectionsAliveForSeveralRequests) {
  HttpConnection connection(port_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(connection.send_bytes("GET /echo/" + std::to_string(i) +
                                      " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    const auto reply = connection.read_reply();
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(nlohmann::json::parse(reply.body)["word"], std::to_string(i));
  }
  EXPECT_FALSE(connection.closed_by_server());
}

TEST_F(HttpServer, TraversalAndBadTargetsAre400WithJson) {
  for (const char* target : {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/echo/..%2f..%2fx",
                             "/echo/a%00b", "/%2Fetc%2Fpasswd", "/echo/%zz"}) {
    const auto reply = http_get(port_, target);
    EXPECT_EQ(reply.status, 400) << target;
    EXPECT_NE(error_of(reply).find("bad request target"), std::string::npos) << target;
  }
  // Absolute paths are not origin-form targets; Beast refuses some before the router sees them.
  for (const char* target : {"/etc/passwd", "//etc/passwd"}) {
    const auto reply = http_get(port_, target);
    EXPECT_EQ(reply.status, 404) << target;
    EXPECT_EQ(error_of(reply), std::string("no such resource: ") + target);
  }
  const auto absolute = http_get(port_, "http://127.0.0.1/etc/passwd");
  EXPECT_EQ(absolute.status, 400);
  EXPECT_EQ(error_of(absolute), "bad request target: expected a path starting with '/'");
}

TEST_F(HttpServer, MalformedRequestsGet400AndTheConnectionCloses) {
  for (const std::string& request :
       {std::string("NOT A REQUEST\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", 28)}) {
    HttpConnection connection(port_);
    ASSERT_TRUE(connection.send_bytes(request));
    const auto reply = connection.read_reply(5);
    EXPECT_EQ(reply.status, 400) << request;
    EXPECT_NE(error_of(reply).find("malformed request"), std::string::npos) << reply.raw;
  }
}

TEST_F(HttpServer, OversizedHeadersAre431AndBodies413) {
  const std::string huge(20000, 'a');
  const auto headers =
      send_raw(port_, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + huge + "\r\n\r\n");
  EXPECT_EQ(headers.status, 431);
  EXPECT_EQ(error_of(headers), "request line and headers exceed 16384 bytes");
  const auto target = send_raw(port_, "GET /" + huge + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(target.status, 431);
  const auto body = send_raw(port_, "POST /body HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                                        std::to_string(2 * 1024 * 1024) + "\r\n\r\n");
  EXPECT_EQ(body.status, 413);
  EXPECT_EQ(error_of(body), "request body exceeds 1048576 bytes");
}

TEST_F(HttpServer, WrongMethodAndUnknownRoute) {
  const auto post = send_raw(port_, qdgen_test::get_request(port_, "/", "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers.at("allow"), "GET");
  const auto unknown = http_get(port_, "/nothing/here");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(error_of(unknown), "no such resource: /nothing/here");
}

TEST_F(HttpServer, AnswersOnlyLoopbackHostNames) {
  for (const char* host : {"localhost", "127.0.0.1:9", "[::1]:80", "127.1.2.3"})
    EXPECT_EQ(send_raw(port_, std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n").status,
              200)
        << host;
  const auto rebound = send_raw(port_, "GET / HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n");
  EXPECT_EQ(rebound.status, 403);
  EXPECT_EQ(error_of(rebound),
            "Host 'evil.example:8080' is not this server's (it answers to loopback names only)");
}

TEST_F(HttpServer, EventStreamSendsPolledEventsThenEnds) {
  HttpConnection connection(port_);
  ASSERT_TRUE(connection.send_bytes(qdgen_test::get_request(port_, "/count")));
  ASSERT_TRUE(connection.receive_until("data: 3\n\n", 5)) << connection.received();
  while (connection.receive(5)) {
  }
  EXPECT_TRUE(connection.closed_by_server());
  const auto reply = qdgen_test::parse_http_reply(connection.received());
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers.at("content-type"), "text/event-stream");
  EXPECT_EQ(reply.headers.at("cache-control"), "no-store");
  EXPECT_EQ(reply.body,
            "event: tick\nid: 1\ndata: 1\n\nevent: tick\nid: 2\ndata: 2\n\n"
            "event: tick\nid: 3\ndata: 3\n\n");
}

TEST_F(HttpServer, StopEndsOpenStreamsAndConnections) {
  HttpConnection stream(port_);
  ASSERT_TRUE(stream.send_bytes(qdgen_test::get_request(port_, "/quiet")));
  ASSERT_TRUE(stream.receive_until("\r\n\r\n", 5));
  HttpConnection idle(port_);  // connected, sends nothing
  while (ticks_ < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto started = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  while (stream.receive(2)) {
  }
  EXPECT_TRUE(stream.closed_by_server());
  EXPECT_FALSE(idle.receive(2));
  EXPECT_TRUE(idle.closed_by_server());
  const int ticks = ticks_;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(ticks_, ticks);                         // nothing polls after a stop
  EXPECT_FALSE(HttpConnection(port_).connected());  // no longer listening
  server_->stop();                                  // twice is fine
}

TEST_F(HttpServer, StopLetsARequestInFlightFinish) {
  slow_began = false;
  HttpConnection connection(port_);
  ASSERT_TRUE(connection.send_bytes("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!slow_began && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(slow_began) << "the /slow handler never began";
  server_->stop();
  const auto reply = connection.read_reply(5);
  EXPECT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.body, R"({"slow":true})");
  EXPECT_FALSE(connection.receive(2));
  EXPECT_TRUE(connection.closed_by_server());  // and then the connection closes
}

TEST_F(HttpServer, ManyClientsAtOnce) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i)
    clients.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j)
        ok += http_get(port_, "/echo/" + std::to_string(i * 10 + j)).status == 200;
    });
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok, 160);
}

TEST(HttpServerStart, RefusesABadHostAndABusyPort) {
  ServerOptions bad;
  bad.host = "not-an-address";
  try {
    Server server(bad, Router{});
    ADD_FAILURE();
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "host 'not-an-address': expected an IP address such as 127.0.0.1 or ::1 (or "
              "localhost)");
  }
  Server first(ServerOptions{}, Router{});
  ServerOptions same;
  same.port = first.port();
  try {
    Server second(same, Router{});
    ADD_FAILURE();
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), "127.0.0.1:" + std::to_string(first.port()) +
                                             ": cannot listen: Address already in use");
  }
}

TEST(HttpServerStart, RunUntilSignalStopsOnSigterm) {
  Server server(ServerOptions{}, test_router());
  std::thread raiser([&] {
    // Waits until the server answers: the signal handler is in place by then.
    while (http_get(server.port(), "/").status != 200)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    kill(getpid(), SIGTERM);
  });
  EXPECT_EQ(server.run_until_signal(), SIGTERM);
  raiser.join();
}

}  // namespace
