// `qdgen dashboard` as a user runs it: the real binary on a free loopback port, over stores
// made by `qdgen run`. Every API route, the page, what it refuses (traversal, malformed
// requests, bad ids), a store deleted or replaced while it serves, an event stream that
// sees a run commit, and the start-up refusals.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_client.hpp"
#include "run_process.hpp"
#include "scratch_directory.hpp"
#include "sqlite_rows.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using qdgen_test::BackgroundProcess;
using qdgen_test::http_get;

const std::string kSphere = std::string(QDGEN_SOURCE_DIR) + "/experiments/demo-sphere-small.json";

// Single quotes for the shell (the scratch folders hold none).
std::string quoted(const fs::path& path) {
  std::string out = "'";
  out += path.string();
  out += "'";
  return out;
}

// A dashboard in the background; its port from the line it prints.
class Dashboard {
 public:
  explicit Dashboard(const std::string& arguments)
      : process_(std::string(QDGEN_BINARY) + " dashboard " + arguments + " --port 0") {
    const std::string prefix = "dashboard: http://127.0.0.1:";
    if (!process_.wait_for_output(prefix, 20) || !process_.wait_for_output("/\n", 5)) return;
    const std::string& out = process_.output();
    port_ = static_cast<std::uint16_t>(std::stoi(out.substr(out.find(prefix) + prefix.size())));
  }
  std::uint16_t port() const { return port_; }
  BackgroundProcess& process() { return process_; }

 private:
  BackgroundProcess process_;
  std::uint16_t port_ = 0;
};

json body_of(const qdgen_test::HttpReply& reply) {
  return json::parse(reply.body);
}

std::string error_of(const qdgen_test::HttpReply& reply) {
  EXPECT_EQ(reply.headers.count("content-type") ? reply.headers.at("content-type") : "",
            "application/json")
      << reply.raw;
  return body_of(reply).at("error").get<std::string>();
}

class DashboardOnAStore : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = scratch_.path() / "sphere.sqlite";
    const auto made =
        qdgen_test::qdgen("run " + kSphere + " --iterations 6 --out " + quoted(store_));
    ASSERT_EQ(made.status, 0) << made.output;
    dashboard_ = std::make_unique<Dashboard>(quoted(store_));
    ASSERT_NE(dashboard_->port(), 0) << dashboard_->process().output();
    port_ = dashboard_->port();
  }
  qdgen_test::ScratchDirectory scratch_;
  fs::path store_;
  std::unique_ptr<Dashboard> dashboard_;
  std::uint16_t port_ = 0;
};

TEST_F(DashboardOnAStore, EveryRouteAnswersFromTheStore) {
  const auto runs = http_get(port_, "/api/runs");
  ASSERT_EQ(runs.status, 200) << runs.raw;
  const json list = body_of(runs);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], "0");
  EXPECT_EQ(list[0]["file"], store_.string());
  EXPECT_EQ(list[0]["name"], "demo-sphere-small");
  EXPECT_EQ(list[0]["status"], "finished");
  EXPECT_EQ(list[0]["last_iteration"], 5);
  EXPECT_EQ(list[0]["archive"]["type"], "grid");
  EXPECT_EQ(body_of(http_get(port_, "/api/runs/0")), list[0]);

  const json elites = body_of(http_get(port_, "/api/runs/0/elites"));
  const auto stored =
      qdgen_test::rows(store_, "SELECT cell, candidate_id FROM elite ORDER BY cell");
  ASSERT_EQ(elites["elites"].size(), stored.size());
  EXPECT_EQ(elites["iteration"], 5);
  const json first = elites["elites"][0];
  EXPECT_EQ(std::to_string(first["cell"].get<long>()) + "|" +
                std::to_string(first["id"].get<long>()) + "|",
            stored[0]);

  const json iterations = body_of(http_get(port_, "/api/runs/0/iterations"));
  ASSERT_EQ(iterations.size(), 6u);
  EXPECT_EQ(iterations[0]["iteration"], 0);
  const json later = body_of(http_get(port_, "/api/runs/0/iterations?since=3"));
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0]["iteration"], 4);
  EXPECT_EQ(later[1], iterations[5]);
  EXPECT_TRUE(body_of(http_get(port_, "/api/runs/0/iterations?since=5")).empty());

  const std::string id = std::to_string(first["id"].get<long>());
  const json candidate = body_of(http_get(port_, "/api/runs/0/candidates/" + id));
  EXPECT_EQ(candidate["id"], first["id"]);
  EXPECT_EQ(candidate["objective"], first["objective"]);
  ASSERT_FALSE(candidate["lineage"].empty());
  EXPECT_EQ(candidate["lineage"][0]["id"], first["id"]);
  EXPECT_EQ(candidate["lineage"][0]["generation"], 0);

  const auto page = http_get(port_, "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("window.QDGEN_API = \"/api\";"), std::string::npos);
  EXPECT_NE(page.body.find("<title>qdgen dashboard: demo-sphere-small</title>"), std::string::npos);
  // No run data in it: the page reads the API.
  EXPECT_NE(page.body.find("<script type=\"application/json\" id=\"qdgen-data\">null</script>"),
            std::string::npos);
}

TEST_F(DashboardOnAStore, BadRequestsGet4xxWithAJsonError) {
  const auto expect = [&](const std::string& target, int status, const std::string& error) {
    const auto reply = http_get(port_, target);
    EXPECT_EQ(reply.status, status) << target << "\n" << reply.raw;
    EXPECT_EQ(error_of(reply), error) << target;
  };
  expect("/api/nothing", 404, "no such resource: /api/nothing");
  expect("/api/runs/0/nothing", 404, "no such resource: /api/runs/0/nothing");
  expect("/api/runs/x/elites", 400, "id: expected an integer in [0, 9223372036854775807], got 'x'");
  expect("/api/runs/-1/elites", 400,
         "id: expected an integer in [0, 9223372036854775807], got '-1'");
  expect("/api/runs/1/elites", 404, "run 1: no such run (this dashboard serves run 0)");
  expect("/api/runs/99999999999999999999/elites", 400,
         "id: expected an integer in [0, 9223372036854775807], got '99999999999999999999'");
  expect("/api/runs/0/iterations?since=abc", 400,
         "since: expected an integer in [-1, 9223372036854775807], got 'abc'");
  expect("/api/runs/0/iterations?since=-2", 400,
         "since: expected an integer in [-1, 9223372036854775807], got '-2'");
  expect("/api/runs/0/iterations?since=1.5", 400,
         "since: expected an integer in [-1, 9223372036854775807], got '1.5'");
  expect("/api/runs/0/iterations?since=1&since=2", 400,
         "bad request target: query parameter 'since' given twice");
  expect("/api/runs/0/candidates/abc", 400,
         "cid: expected an integer in [0, 9223372036854775807], got 'abc'");
  expect("/api/runs/0/candidates/123456789", 404, store_.string() + ": no candidate 123456789");
  const auto post =
      qdgen_test::send_raw(port_, qdgen_test::get_request(port_, "/api/runs", "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(error_of(post), "method POST is not allowed here (allowed: GET)");
  const auto huge = qdgen_test::send_raw(
      port_, "GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + std::string(40000, 'x') +
                 "\r\n\r\n");
  EXPECT_EQ(huge.status, 431);
  EXPECT_EQ(error_of(huge), "request line and headers exceed 16384 bytes");
  const auto garbage = qdgen_test::send_raw(port_, "\x16\x03\x01 hello TLS?\r\n\r\n");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_TRUE(dashboard_->process().running());
}

TEST_F(DashboardOnAStore, ServesNothingBeyondItsOwnPageAndStores) {
  // The store itself, its folder, the system's files: no target reaches a file.
  const std::string file = store_.string();
  for (const char* target :
       {"/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
        "/api/runs/0/..", "/api/runs/0/%2e%2e/%2e%2e", "/index.html%00", "/%00", "/api%2fruns",
        "/a%5c..%5cb"}) {
    const auto reply = http_get(port_, target);
    EXPECT_EQ(reply.status, 400) << target << "\n" << reply.raw;
    EXPECT_NE(error_of(reply).find("bad request target"), std::string::npos) << target;
  }
  for (const std::string& target : std::vector<std::string>{
           "/etc/passwd", "//etc/passwd", file, file + "-wal",
           std::string("/").append(store_.filename().string()), "/index.html", "/api"}) {
    const auto reply = http_get(port_, target);
    EXPECT_EQ(reply.status, 404) << target << "\n" << reply.raw;
    EXPECT_EQ(error_of(reply), "no such resource: " + target);
  }
}

TEST_F(DashboardOnAStore, AStoreDeletedWhileServingIsA410NamingIt) {
  qdgen_test::HttpConnection events(port_);
  ASSERT_TRUE(events.send_bytes(qdgen_test::get_request(port_, "/api/runs/0/events")));
  ASSERT_TRUE(events.receive_until("event: status\n", 10)) << events.received();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(store_.string() + suffix);
  const std::string gone =
      store_.string() + ": the run store is gone (deleted or moved since the dashboard started)";
  for (const char* target : {"/api/runs/0", "/api/runs/0/elites", "/api/runs/0/iterations",
                             "/api/runs/0/candidates/1", "/api/runs/0/events"}) {
    const auto reply = http_get(port_, target);
    EXPECT_EQ(reply.status, 410) << target;
    EXPECT_EQ(error_of(reply), gone) << target;
  }
  const json runs = body_of(http_get(port_, "/api/runs"));
  EXPECT_EQ(runs[0]["status"], "unavailable");
  EXPECT_EQ(runs[0]["error"], gone);
  // The open stream says so and ends.
  ASSERT_TRUE(events.receive_until("event: error\n", 10)) << events.received();
  while (events.receive(5)) {
  }
  EXPECT_TRUE(events.closed_by_server());
  EXPECT_NE(events.received().find(json({{"error", gone}, {"run", "0"}}).dump()), std::string::npos)
      << events.received();
  EXPECT_EQ(http_get(port_, "/").status, 200);
  EXPECT_TRUE(dashboard_->process().running());
}

TEST_F(DashboardOnAStore, AStoreReplacedByAnotherFileIs500NamingIt) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(store_.string() + suffix);
  std::ofstream(store_) << "not a database at all, but long enough to be looked at as one...";
  const auto reply = http_get(port_, "/api/runs/0/elites");
  EXPECT_EQ(reply.status, 500) << reply.raw;
  EXPECT_EQ(error_of(reply).rfind(store_.string() + ": ", 0), 0u) << reply.raw;
  EXPECT_TRUE(dashboard_->process().running());
}

TEST_F(DashboardOnAStore, AnEventStreamFollowsTheFileThePathNamesNow) {
  const fs::path other = scratch_.path() / "other.sqlite";
  ASSERT_EQ(qdgen_test::qdgen("run " + kSphere + " --iterations 2 --out " + quoted(other)).status,
            0);
  qdgen_test::HttpConnection events(port_);
  ASSERT_TRUE(events.send_bytes(qdgen_test::get_request(port_, "/api/runs/0/events")));
  ASSERT_TRUE(events.receive_until(
      "data: " + json({{"iteration", 5}, {"run", "0"}, {"status", "finished"}}).dump(), 10))
      << events.received();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(store_.string() + suffix);
  fs::rename(other, store_);
  EXPECT_TRUE(events.receive_until(
      "event: iteration\nid: 1\ndata: " +
          json({{"iteration", 1}, {"run", "0"}, {"status", "finished"}}).dump() + "\n\n",
      10))
      << events.received();
  EXPECT_EQ(body_of(http_get(port_, "/api/runs/0"))["last_iteration"], 1);
}

TEST_F(DashboardOnAStore, SigtermStopsItLikeEveryCommand) {
  qdgen_test::HttpConnection events(port_);
  ASSERT_TRUE(events.send_bytes(qdgen_test::get_request(port_, "/api/runs/0/events")));
  ASSERT_TRUE(events.receive_until("event: status\n", 10));
  dashboard_->process().signal(SIGTERM);
  const auto result = dashboard_->process().wait(10);
  EXPECT_EQ(result.status, 128 + SIGTERM) << result.output;
  while (events.receive(5)) {
  }
  EXPECT_TRUE(events.closed_by_server());
}

TEST(DashboardLive, EventStreamAndApiFollowARunThatWrites) {
  qdgen_test::ScratchDirectory scratch;
  const fs::path store = scratch.path() / "live.sqlite";
  json config = json::parse(std::ifstream(kSphere));
  // Big batches of a cheap domain: tens of iterations a second, a store of a few MB.
  config["domain"]["dim"] = 2;
  config["emitters"] = json::parse(R"([{"kind": "gaussian", "count": 2, "batch": 20000,
                                        "sigma": 0.5}])");
  config.erase("selection");
  config["iterations"] = 100000000;
  config["store"] = {{"keep", "added"}, {"commit_seconds", 0.2}};
  config["metrics"] = {{"log_every", 1000000}};
  const fs::path config_file = scratch.write("live.json", config.dump());
  BackgroundProcess run(std::string(QDGEN_BINARY) + " run " + quoted(config_file) + " --out " +
                        quoted(store));
  // The dashboard opens stores that exist: wait for the first commit.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!(fs::exists(store) &&
           !qdgen_test::rows(store, "SELECT iteration FROM iteration LIMIT 1").empty())) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << run.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Dashboard dashboard(quoted(store));
  ASSERT_NE(dashboard.port(), 0) << dashboard.process().output();
  const std::uint16_t port = dashboard.port();

  qdgen_test::HttpConnection events(port);
  ASSERT_TRUE(events.send_bytes(qdgen_test::get_request(port, "/api/runs/0/events")));
  ASSERT_TRUE(events.receive_until("event: status\n", 10)) << events.received();
  ASSERT_TRUE(events.receive_until("event: iteration\n", 10)) << events.received();
  ASSERT_TRUE(events.receive_until("\n\n", 5));
  const auto body = qdgen_test::parse_http_reply(events.received()).body;
  const std::size_t at = body.find("event: iteration\n");
  const std::size_t data = body.find("data: ", at);
  const json state = json::parse(body.substr(data + 6, body.find('\n', data) - data - 6));
  EXPECT_EQ(state["status"], "running");
  const long seen = state["iteration"].get<long>();
  EXPECT_GE(seen, 0);
  // Readers on several threads while the run commits: every answer whole, and ?since=K
  // gives only later iterations, in order.
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        const auto elites = http_get(port, "/api/runs/0/elites");
        const auto rows = http_get(port, "/api/runs/0/iterations?since=" + std::to_string(seen));
        if (elites.status != 200 || rows.status != 200) continue;
        const json later = json::parse(rows.body);
        bool ordered = true;
        long previous = seen;
        for (const json& row : later) {
          ordered = ordered && row["iteration"].get<long>() == previous + 1;
          previous = row["iteration"].get<long>();
        }
        ok += ordered && !json::parse(elites.body)["elites"].empty();
      }
    });
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok, 20);

  run.signal(SIGINT);
  EXPECT_EQ(run.wait(30).status, 128 + SIGINT);
  // The stream reports the stopped run's last commit and status.
  const json stopped = body_of(http_get(port, "/api/runs/0"));
  const std::string last =
      json({{"iteration", stopped["last_iteration"]}, {"run", "0"}, {"status", stopped["status"]}})
          .dump();
  EXPECT_TRUE(events.receive_until("data: " + last + "\n", 5)) << last << "\n" << events.received();
}

TEST(DashboardStart, AnotherAddressThanLoopbackIsServedWithAWarning) {
  qdgen_test::ScratchDirectory scratch;
  const fs::path store = scratch.path() / "s.sqlite";
  ASSERT_EQ(qdgen_test::qdgen("run " + kSphere + " --iterations 1 --out " + quoted(store)).status,
            0);
  BackgroundProcess dashboard(std::string(QDGEN_BINARY) + " dashboard " + quoted(store) +
                              " --host 0.0.0.0 --port 0");
  ASSERT_TRUE(dashboard.wait_for_output("dashboard: http://0.0.0.0:", 20)) << dashboard.output();
  ASSERT_TRUE(dashboard.wait_for_output("/\n", 5));
  const std::string& out = dashboard.output();
  EXPECT_NE(out.find("qdgen dashboard: listening on 0.0.0.0, not a loopback address: anyone who "
                     "can reach it can read these runs\n"),
            std::string::npos)
      << out;
  const std::string prefix = "dashboard: http://0.0.0.0:";
  const auto port =
      static_cast<std::uint16_t>(std::stoi(out.substr(out.find(prefix) + prefix.size())));
  // Served to any Host: the loopback-only check is for loopback servers.
  const auto reply = qdgen_test::send_raw(
      port, "GET /api/runs HTTP/1.1\r\nHost: dashboard.example:80\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.status, 200) << reply.raw;
}

TEST(DashboardStart, RefusesWhatItCannotServeWithOneLine) {
  qdgen_test::ScratchDirectory scratch;
  const auto expect_refused = [](const std::string& arguments, const std::string& message) {
    const auto result = qdgen_test::qdgen("dashboard " + arguments);
    EXPECT_NE(result.status, 0) << arguments;
    // One line; CLI11's refusals of a flag add its "Run with --help" hint.
    const std::string first_line = result.output.substr(0, result.output.find('\n') + 1);
    EXPECT_TRUE(first_line.size() == result.output.size() ||
                result.output.substr(first_line.size()) ==
                    "Run with --help for more information.\n")
        << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << arguments << "\n" << result.output;
  };
  const fs::path missing = scratch.path() / "missing.sqlite";
  expect_refused(quoted(missing), missing.string());
  const fs::path text = scratch.write("notes.sqlite", "just some text, not SQLite\n");
  expect_refused(quoted(text), text.string());
  const fs::path store = scratch.path() / "s.sqlite";
  ASSERT_EQ(qdgen_test::qdgen("run " + kSphere + " --iterations 1 --out " + quoted(store)).status,
            0);
  expect_refused(quoted(store) + " " + quoted(missing), missing.string());
  expect_refused(quoted(store) + " --port 65536", "--port: Value 65536 not in range 0 to 65535");
  expect_refused(quoted(store) + " --port -1", "--port: Value -1 not in range 0 to 65535");
  expect_refused(quoted(store) + " --port http", "--port");
  expect_refused(quoted(store) + " --host example.com",
                 "qdgen dashboard: host 'example.com': expected an IP address such as 127.0.0.1 "
                 "or ::1 (or localhost)");
  expect_refused(quoted(store) + " --host 999.1.1.1", "host '999.1.1.1'");
  expect_refused("", "runs is required");
  // A port in use: the second dashboard says which.
  Dashboard first(quoted(store));
  ASSERT_NE(first.port(), 0);
  expect_refused(quoted(store) + " --port " + std::to_string(first.port()),
                 "qdgen dashboard: 127.0.0.1:" + std::to_string(first.port()) +
                     ": cannot listen: Address already in use");
}

}  // namespace
