#pragma once
// A deliberately plain HTTP/1.1 client for tests: raw bytes over a loopback TCP socket, so
// that tests can send what no library would (malformed requests, traversal attempts, huge
// headers) and read exactly what came back. Responses are read until the server closes (the
// requests say "Connection: close") or their Content-Length is in.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace qdgen_test {

struct HttpReply {
  int status = 0;                              // 0: no status line came back
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string raw;
};

inline HttpReply parse_http_reply(const std::string& raw) {
  HttpReply reply;
  reply.raw = raw;
  const std::size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  std::size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    const std::size_t end = raw.find("\r\n", line);
    const std::string field = raw.substr(line, end - line);
    const std::size_t colon = field.find(':');
    std::string name = field.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t value = colon + 1;
    while (value < field.size() && field[value] == ' ') ++value;
    reply.headers[name] = field.substr(value);
    line = end + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

// A connection to 127.0.0.1:port.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~HttpConnection() {
    if (fd_ >= 0) close(fd_);
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool send_bytes(const std::string& bytes) const {
    std::size_t sent = 0;
    while (fd_ >= 0 && sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return fd_ >= 0;
  }

  // Reads what comes within `seconds`; false once the server has closed (or on a timeout).
  bool receive(double seconds) {
    if (fd_ < 0 || closed_) return false;
    pollfd fd{fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(seconds * 1000)) <= 0) return false;
    std::array<char, 65536> buffer;
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    received_.append(buffer.data(), static_cast<std::size_t>(n));
    return true;
  }

  // Reads until `text` has come (true), the server closes or `seconds` pass.
  bool receive_until(const std::string& text, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (received_.find(text) == std::string::npos) {
      const double left =
          std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0 || !receive(left)) break;
    }
    return received_.find(text) != std::string::npos;
  }

  // Reads one whole response: to the close, or to the end of its Content-Length.
  HttpReply read_reply(double seconds = 10) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
      const HttpReply reply = parse_http_reply(received_);
      if (reply.status != 0 && reply.headers.count("content-length") &&
          reply.body.size() >= std::stoul(reply.headers.at("content-length"))) {
        const std::size_t length = std::stoul(reply.headers.at("content-length"));
        const std::size_t whole = received_.size() - reply.body.size() + length;
        const HttpReply complete = parse_http_reply(received_.substr(0, whole));
        received_.erase(0, whole);
        return complete;
      }
      const double left =
          std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0 || !receive(left)) break;
    }
    HttpReply reply = parse_http_reply(received_);
    received_.clear();
    return reply;
  }

  const std::string& received() const { return received_; }
  bool closed_by_server() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

// Sends `bytes` as they are and reads the one response.
inline HttpReply send_raw(std::uint16_t port, const std::string& bytes, double seconds = 10) {
  HttpConnection connection(port);
  if (!connection.send_bytes(bytes)) return {};
  return connection.read_reply(seconds);
}

inline std::string get_request(std::uint16_t port, const std::string& target,
                               const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nConnection: close\r\n\r\n";
}

inline HttpReply http_get(std::uint16_t port, const std::string& target) {
  return send_raw(port, get_request(port, target));
}

}  // namespace qdgen_test
