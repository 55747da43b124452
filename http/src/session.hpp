#pragma once
// One connection: reads requests in order, answers each through the router, and runs an event
// stream when a handler returns one. Everything a session does runs on its own strand.

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "qdgen/http/router.hpp"
#include "qdgen/http/server.hpp"

namespace qdgen::http::detail {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Session;

// How long a stop waits for a response already being written (to a slow reader).
inline constexpr std::chrono::seconds kStopGrace{5};

// The live sessions, so that a stop can close them; once closed, new ones close at once.
class SessionRegistry {
 public:
  bool add(const std::shared_ptr<Session>& session);  // false once closed
  void close_all();

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<Session>> sessions_;
  bool closed_ = false;
};

struct SessionSettings {
  const Router* router = nullptr;
  ServerOptions options;
  bool loopback_only = true;  // answer only requests whose Host is a loopback name
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const SessionSettings& settings);
  void start();
  void close();  // from any thread

 private:
  void read();
  void on_read(beast::error_code error, std::size_t bytes);
  Reply answer();
  void write(Response response, bool keep_alive);
  void on_write(bool keep_alive, beast::error_code error, std::size_t bytes);
  void start_stream(EventStream events);
  void poll_stream();
  void on_stream_write(bool go_on, beast::error_code error, std::size_t bytes);
  void wait_stream();
  void shut();

  beast::tcp_stream stream_;
  const SessionSettings& settings_;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::shared_ptr<beast::http::response<beast::http::string_body>> response_;
  beast::http::response<beast::http::empty_body> stream_head_;
  std::optional<beast::http::response_serializer<beast::http::empty_body>> stream_serializer_;
  net::steady_timer timer_;
  EventStream events_;
  std::string pending_events_;
  std::chrono::steady_clock::time_point last_sent_;
  bool closed_ = false;
  bool writing_response_ = false;
  bool stopping_ = false;  // the server stops: close after the response being written
};

}  // namespace qdgen::http::detail
