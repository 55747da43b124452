#include "qdgen/http/server.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "session.hpp"

namespace qdgen::http {

using detail::net::ip::tcp;
namespace net = detail::net;

struct Server::Impl {
  Impl(const ServerOptions& options, Router routes)
      : router(std::move(routes)), io(std::max(1, options.threads)) {
    settings.router = &router;
    settings.options = options;
  }

  void accept() {
    acceptor.async_accept(
        net::make_strand(io), [this](boost::system::error_code error, tcp::socket socket) {
          if (error == net::error::operation_aborted || !acceptor.is_open()) return;
          if (!error) {
            auto session = std::make_shared<detail::Session>(std::move(socket), settings);
            if (registry.add(session)) session->start();
          }
          // A failed accept (out of descriptors, a reset during the handshake) is that client's.
          accept();
        });
  }

  // Declared first: sessions refer to these until the io_context below is gone.
  Router router;
  detail::SessionSettings settings;
  detail::SessionRegistry registry;
  net::io_context io;  // its concurrency hint: the number of threads that run it
  tcp::acceptor acceptor{io};
  tcp::endpoint endpoint;
  std::vector<std::thread> threads;
  std::optional<net::signal_set> signals;

  std::mutex stop_mutex;  // held through a whole stop
  bool stopped = false;
  std::mutex wait_mutex;
  std::condition_variable wake;
  bool stop_requested = false;
  int signal_number = 0;
};

namespace {

net::ip::address parse_host(const std::string& host) {
  boost::system::error_code error;
  const auto address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, error);
  if (error)
    throw std::runtime_error("host '" + host +
                             "': expected an IP address such as 127.0.0.1 or ::1 (or localhost)");
  return address;
}

std::string endpoint_text(const net::ip::address& address, std::uint16_t port) {
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(port);
}

}  // namespace

Server::Server(const ServerOptions& options, Router router)
    : impl_(std::make_unique<Impl>(options, std::move(router))) {
  if (options.threads < 1 || options.threads > 64)
    throw std::runtime_error("threads: expected an integer in [1, 64], got " +
                             std::to_string(options.threads));
  const net::ip::address address = parse_host(options.host);
  impl_->settings.loopback_only = address.is_loopback();
  const tcp::endpoint wanted(address, options.port);
  boost::system::error_code error;
  auto& acceptor = impl_->acceptor;
  acceptor.open(wanted.protocol(), error);
  if (!error) acceptor.set_option(net::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(wanted, error);
  if (!error) acceptor.listen(net::socket_base::max_listen_connections, error);
  if (error)
    throw std::runtime_error(endpoint_text(address, options.port) +
                             ": cannot listen: " + error.message());
  impl_->endpoint = acceptor.local_endpoint();
}

Server::~Server() {
  stop();
}

std::uint16_t Server::port() const {
  return impl_->endpoint.port();
}

bool Server::loopback() const {
  return impl_->settings.loopback_only;
}

std::string Server::url() const {
  return "http://" + endpoint_text(impl_->endpoint.address(), port()) + "/";
}

void Server::start() {
  const std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped || !impl_->threads.empty()) return;
  impl_->accept();
  for (int i = 0; i < impl_->settings.options.threads; ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void Server::stop() {
  {
    const std::lock_guard lock(impl_->wait_mutex);
    impl_->stop_requested = true;
  }
  impl_->wake.notify_all();
  const std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Closed on the io_context, where the acceptor's handler runs; the sessions on their strands.
  net::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    if (impl->signals) impl->signals->cancel(ignored);
  });
  impl_->registry.close_all();
  if (impl_->threads.empty()) impl_->io.run();  // never started: let the closing run
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  impl_->signals.reset();
}

int Server::run_until_signal() {
  impl_->signals.emplace(impl_->io, SIGINT, SIGTERM);
  impl_->signals->async_wait([impl = impl_.get()](boost::system::error_code error, int number) {
    if (error) return;
    {
      const std::lock_guard lock(impl->wait_mutex);
      impl->signal_number = number;
      impl->stop_requested = true;
    }
    impl->wake.notify_all();
  });
  start();
  {
    std::unique_lock lock(impl_->wait_mutex);
    impl_->wake.wait(lock, [this] { return impl_->stop_requested; });
  }
  stop();
  return impl_->signal_number;
}

}  // namespace qdgen::http
