#pragma once
// An HTTP/1.1 server on a fixed number of threads. Connections are kept alive; each one's
// requests are handled in order, on one thread at a time. Requests over the size limits, that
// do not parse, or whose target is refused (target.hpp) get a 4xx JSON error. When bound to a
// loopback address it answers only requests whose Host names a loopback host (so a web page
// elsewhere cannot reach it by DNS rebinding).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "qdgen/http/router.hpp"

namespace qdgen::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an IP address; "localhost" means 127.0.0.1
  std::uint16_t port = 0;          // 0: a free port, chosen by the system
  int threads = 2;
  std::size_t header_limit = 16 * 1024;      // bytes of request line and headers (else 431)
  std::size_t body_limit = 1024 * 1024;      // bytes of body (else 413)
  std::chrono::seconds idle_timeout{30};     // an idle or slow connection is closed
  std::chrono::seconds event_heartbeat{15};  // a comment on a quiet event stream
};

class Server {
 public:
  // Binds and listens; throws std::runtime_error, one line "HOST:PORT: reason", when it cannot
  // (a bad address, a port in use, no permission).
  Server(const ServerOptions& options, Router router);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;  // the bound port (the chosen one for port 0)
  std::string url() const;     // "http://127.0.0.1:PORT/"
  bool loopback() const;       // bound to a loopback address (only this machine can connect)

  void start();  // serves on the threads until stop()
  // Stops accepting, ends the event streams and closes connections (a request being handled
  // finishes and its response is written first, for at most 5 s), then joins the threads.
  // Safe to call from any thread but the server's own (a handler), more than once.
  void stop();
  // Starts, then serves until SIGINT or SIGTERM arrives (or stop()); returns the signal
  // (0 when stopped otherwise), after stopping.
  int run_until_signal();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qdgen::http
