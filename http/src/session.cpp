#include "session.hpp"

#include <boost/asio/ip/address.hpp>

#include "qdgen/http/target.hpp"

namespace qdgen::http::detail {

namespace http = beast::http;

bool SessionRegistry::add(const std::shared_ptr<Session>& session) {
  const std::lock_guard lock(mutex_);
  if (closed_) return false;
  std::erase_if(sessions_, [](const std::weak_ptr<Session>& s) { return s.expired(); });
  sessions_.push_back(session);
  return true;
}

void SessionRegistry::close_all() {
  std::vector<std::weak_ptr<Session>> sessions;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    sessions.swap(sessions_);
  }
  for (const auto& weak : sessions)
    if (const auto session = weak.lock()) session->close();
}

namespace {

// The host part of a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "::1".
std::string host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const std::size_t end = host.find(']');
    return std::string(host.substr(1, end == std::string_view::npos ? end : end - 1));
  }
  return std::string(host.substr(0, host.find(':')));
}

bool is_loopback_name(const std::string& name) {
  if (name == "localhost") return true;
  beast::error_code error;
  const auto address = net::ip::make_address(name, error);
  return !error && address.is_loopback();
}

}  // namespace

Session::Session(tcp::socket socket, const SessionSettings& settings)
    : stream_(std::move(socket)), settings_(settings), timer_(stream_.get_executor()) {}

void Session::start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
}

void Session::close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->writing_response_) return self->shut();
    // A response on its way finishes first (on_write closes), within a grace period.
    self->stopping_ = true;
    self->timer_.expires_after(kStopGrace);
    self->timer_.async_wait([self](beast::error_code error) {
      if (!error) self->shut();
    });
  });
}

void Session::shut() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

void Session::read() {
  if (closed_) return;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(settings_.options.header_limit));
  parser_->body_limit(settings_.options.body_limit);
  stream_.expires_after(settings_.options.idle_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code error, std::size_t bytes) {
                     self->on_read(error, bytes);
                   });
}

void Session::on_read(beast::error_code error, std::size_t) {
  if (closed_) return;
  if (error == http::error::header_limit) {
    write(json_error(431, "request line and headers exceed " +
                              std::to_string(settings_.options.header_limit) + " bytes"),
          false);
    return;
  }
  if (error == http::error::body_limit) {
    write(json_error(413, "request body exceeds " + std::to_string(settings_.options.body_limit) +
                              " bytes"),
          false);
    return;
  }
  // A parse error of the request itself (not of the connection) gets an answer.
  if (error && error.category() == http::make_error_code(http::error::bad_target).category() &&
      error != http::error::end_of_stream && error != http::error::partial_message) {
    write(json_error(400, "malformed request: " + error.message()), false);
    return;
  }
  if (error) {  // the client left, timed out, or reset: nothing to answer
    shut();
    return;
  }
  const bool keep_alive = parser_->get().keep_alive();
  std::visit(
      [&](auto&& reply) {
        using T = std::decay_t<decltype(reply)>;
        if constexpr (std::is_same_v<T, Response>) {
          write(std::move(reply), keep_alive);
        } else {
          start_stream(std::move(reply));
        }
      },
      answer());
}

Reply Session::answer() {
  const auto& message = parser_->get();
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = message.body();
  try {
    if (settings_.loopback_only) {
      const auto host = request.header("host");
      if (host && !is_loopback_name(host_name(*host)))
        return json_error(403, "Host '" + *host +
                                   "' is not this server's (it answers to "
                                   "loopback names only)");
    }
    Target target = parse_target(request.target);
    request.path = std::move(target.path);
    request.query = std::move(target.query);
  } catch (const HttpError& refused) {
    return json_error(refused.status(), refused.what());
  }
  return settings_.router->dispatch(request);
}

void Session::write(Response response, bool keep_alive) {
  response_ = std::make_shared<http::response<http::string_body>>();
  auto& out = *response_;
  out.version(parser_ && parser_->is_header_done() ? parser_->get().version() : 11);
  out.result(response.status);
  out.set(http::field::server, "qdgen");
  out.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) out.set(name, value);
  out.body() = std::move(response.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  writing_response_ = true;
  stream_.expires_after(settings_.options.idle_timeout);
  http::async_write(
      stream_, out,
      [self = shared_from_this(), keep_alive](beast::error_code error, std::size_t bytes) {
        self->on_write(keep_alive, error, bytes);
      });
}

void Session::on_write(bool keep_alive, beast::error_code error, std::size_t) {
  response_.reset();
  writing_response_ = false;
  if (error || !keep_alive || stopping_) {
    shut();
    return;
  }
  read();
}

void Session::start_stream(EventStream events) {
  events_ = std::move(events);
  stream_head_ = {};
  stream_head_.version(parser_->get().version());
  stream_head_.result(http::status::ok);
  stream_head_.set(http::field::server, "qdgen");
  stream_head_.set(http::field::content_type, "text/event-stream");
  stream_head_.set(http::field::cache_control, "no-store");
  // The body ends when the connection does: no length, no keep-alive.
  stream_head_.keep_alive(false);
  stream_serializer_.emplace(stream_head_);
  stream_.expires_after(settings_.options.idle_timeout);
  http::async_write_header(stream_, *stream_serializer_,
                           [self = shared_from_this()](beast::error_code error, std::size_t) {
                             if (error || self->closed_) return self->shut();
                             self->last_sent_ = std::chrono::steady_clock::now();
                             self->poll_stream();
                           });
}

void Session::poll_stream() {
  if (closed_) return;
  std::vector<Event> events;
  bool go_on = true;
  try {
    go_on = events_.poll(events);
  } catch (const std::exception& failure) {
    events.push_back({"error",
                      nlohmann::json({{"error", failure.what()}})
                          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      ""});
    go_on = false;
  }
  pending_events_.clear();
  for (const Event& event : events) pending_events_ += format_event(event);
  const auto now = std::chrono::steady_clock::now();
  // A comment now and then on a quiet stream: a client that left is noticed by the write.
  if (pending_events_.empty() && now - last_sent_ >= settings_.options.event_heartbeat)
    pending_events_ = ":\n\n";
  if (pending_events_.empty()) {
    if (!go_on) return shut();
    return wait_stream();
  }
  last_sent_ = now;
  stream_.expires_after(settings_.options.idle_timeout);
  net::async_write(stream_, net::buffer(pending_events_),
                   [self = shared_from_this(), go_on](beast::error_code error, std::size_t bytes) {
                     self->on_stream_write(go_on, error, bytes);
                   });
}

void Session::on_stream_write(bool go_on, beast::error_code error, std::size_t) {
  if (error || !go_on) return shut();
  wait_stream();
}

void Session::wait_stream() {
  if (closed_) return;
  stream_.expires_never();
  timer_.expires_after(events_.interval);
  timer_.async_wait([self = shared_from_this()](beast::error_code error) {
    if (error || self->closed_) return;
    self->poll_stream();
  });
}

}  // namespace qdgen::http::detail
