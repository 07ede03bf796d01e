// The only translation unit that includes Beast: it compiles slowly, so it stays here.
#include "http/server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace thunder::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// One client connection. The session coroutine owns it; the server's registry holds a
// weak reference so that shutdown can close it while it is idle.
struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // touched only on the connection's strand
};

Request ToRequest(const bhttp::request<bhttp::string_body>& in, Status& query_status) {
  Request req;
  req.method = std::string(in.method_string());
  const std::string_view target = in.target();
  const size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    auto parsed = ParseQueryString(target.substr(q + 1));
    if (parsed.ok()) {
      req.query = std::move(*parsed);
    } else {
      query_status = parsed.status();
    }
  }
  if (auto it = in.find(bhttp::field::authorization); it != in.end()) {
    req.authorization = std::string(it->value());
  }
  if (auto it = in.find(bhttp::field::content_type); it != in.end()) {
    req.content_type = std::string(it->value());
  }
  req.body = in.body();
  return req;
}

// The response as bytes on the wire. Writing them directly is cheaper than Beast's
// serializer, and every header here comes from our own code, never from a client.
std::string WireFormat(const Response& r, unsigned version, bool keep_alive) {
  const std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  std::string out;
  out.reserve(160 + r.body.size());
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason;
  out += "\r\nServer: thunder\r\nContent-Type: ";
  out += r.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(r.body.size());
  out += "\r\n";
  for (const auto& [name, value] : r.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive && version >= 11) out += "Connection: close\r\n";
  if (keep_alive && version < 11) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, const Router& r, Metrics& m)
      : options(std::move(o)), router(r), metrics(m), ioc(std::max(1, options.io_threads)) {}

  ServerOptions options;
  const Router& router;
  Metrics& metrics;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc};
  asio::steady_timer grace_timer{ioc};
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<bool> shutdown_requested{false};

  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mu
  uint64_t next_connection_id = 0;                                      // guarded by mu

  uint64_t Register(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mu);
    connections.emplace(++next_connection_id, c);
    return next_connection_id;
  }

  void Unregister(uint64_t id) {
    bool last = false;
    {
      std::lock_guard lock(mu);
      connections.erase(id);
      last = connections.empty();
    }
    if (last && stopping) ioc.stop();
  }

  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kAwait);
      if (stopping) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        // Out of file descriptors and similar: back off instead of spinning.
        asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
        co_await pause.async_wait(kAwait);
        continue;
      }
      auto conn = std::make_shared<Connection>(std::move(socket));
      const uint64_t id = Register(conn);
      asio::co_spawn(conn->stream.get_executor(), Session(conn, id), asio::detached);
    }
  }

  // Runs the router and resumes on this connection's strand with its answer. The handler
  // asio makes for the coroutine is move-only, so it is kept behind a shared_ptr (a
  // concrete type, not any_completion_handler, which misbehaves on move in Boost 1.81).
  asio::awaitable<Router::Dispatched> Dispatch(const Request& req) {
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                            void(Router::Dispatched)>(
        [this, &req](auto handler) {
          using H = decltype(handler);
          auto shared = std::make_shared<H>(std::move(handler));
          router.DispatchAsync(req, [shared](Router::Dispatched d) {
            auto ex = asio::get_associated_executor(*shared);
            asio::post(ex, [shared, d = std::move(d)]() mutable { (*shared)(std::move(d)); });
          });
        },
        asio::use_awaitable);
  }

  // Answers an error the parser found, then closes the connection.
  asio::awaitable<void> RejectAndClose(Connection& conn, const Status& status) {
    const std::string bytes = WireFormat(ErrorResponse(status), 11, false);
    conn.stream.expires_after(options.read_timeout);
    auto [ec, n] = co_await asio::async_write(conn.stream, asio::buffer(bytes), kAwait);
    metrics.ObserveRequest("unmatched", "?", status.http_status(), 0);
    if (ec) co_return;
    // Read and discard what the client still sends for a moment, so that closing a socket
    // with unread data does not reset the connection before the client reads our answer.
    beast::error_code ignored;
    conn.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn.stream.expires_after(std::chrono::seconds(1));
    std::array<char, 16 * 1024> sink;
    for (size_t drained = 0; drained < 8 * options.max_body_bytes;) {
      auto [rec, got] = co_await conn.stream.async_read_some(asio::buffer(sink), kAwait);
      if (rec) break;
      drained += got;
    }
  }

  asio::awaitable<void> Session(std::shared_ptr<Connection> conn, uint64_t id) {
    metrics.ConnectionOpened();
    beast::flat_buffer buffer;
    for (;;) {
      if (stopping) break;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(options.max_header_bytes);
      parser.body_limit(options.max_body_bytes);
      conn->stream.expires_after(options.read_timeout);
      auto [ec, n] = co_await bhttp::async_read(conn->stream, buffer, parser, kAwait);
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          co_await RejectAndClose(*conn,
                                  Status(ErrorKind::kPayloadTooLarge, "payload_too_large",
                                         "request body is larger than " +
                                             std::to_string(options.max_body_bytes) + " bytes"));
        } else if (ec == bhttp::error::header_limit) {
          co_await RejectAndClose(*conn,
                                  Status(ErrorKind::kHeaderTooLarge, "header_too_large",
                                         "request header is larger than " +
                                             std::to_string(options.max_header_bytes) + " bytes"));
        } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                   ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
          co_await RejectAndClose(
              *conn,
              Status::InvalidArgument("bad_request", "malformed HTTP request: " + ec.message()));
        }
        break;  // timeout, cancellation, a closed connection: nothing to answer
      }
      conn->busy = true;
      const auto started = std::chrono::steady_clock::now();
      const auto& in = parser.get();
      Status query_status;
      Request req = ToRequest(in, query_status);
      Router::Dispatched out;
      if (query_status.ok()) {
        out = co_await Dispatch(req);
      } else {
        out = {ErrorResponse(query_status), "unmatched"};
      }
      const int status = out.response.status;
      const bool keep_alive = in.keep_alive() && !stopping;
      const std::string bytes = WireFormat(out.response, in.version(), keep_alive);
      conn->stream.expires_after(options.read_timeout);
      auto [wec, written] = co_await asio::async_write(conn->stream, asio::buffer(bytes), kAwait);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      metrics.ObserveRequest(out.route_label, req.method, status, took.count());
      conn->busy = false;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->stream.socket().close(ignored);
    metrics.ConnectionClosed();
    Unregister(id);
  }

  void BeginShutdown() {
    if (stopping.exchange(true)) return;
    beast::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mu);
      for (auto& [id, weak] : connections) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
    }
    if (open.empty()) {
      ioc.stop();
      return;
    }
    // Close idle connections on their own strands; busy ones close after their answer.
    for (auto& c : open) {
      asio::post(c->stream.get_executor(), [c] {
        if (!c->busy) c->stream.cancel();
      });
    }
    grace_timer.expires_after(options.shutdown_grace);
    grace_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      spdlog::warn("shutdown grace period over; closing the remaining connections");
      ioc.stop();
    });
  }
};

Server::Server(ServerOptions options, const Router& router, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() {
  RequestShutdown();
  Wait();
}

Status Server::Start() {
  Impl& s = *impl_;
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) {
    return Status::InvalidArgument("invalid_listen_address",
                                   "cannot parse listen address '" + s.options.address + "'",
                                   "listen");
  }
  const tcp::endpoint endpoint{address, s.options.port};
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError("cannot listen on " + s.options.address + ":" +
                           std::to_string(s.options.port) + ": " + ec.message());
  }
  s.bound_port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.ioc, s.AcceptLoop(), asio::detached);
  for (int i = 0; i < std::max(1, s.options.io_threads); ++i) {
    s.threads.emplace_back([&s] {
      pthread_setname_np(pthread_self(), "thunder-io");
      s.ioc.run();
    });
  }
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->bound_port; }

void Server::ShutdownOnSignals() {
  Impl& s = *impl_;
  s.signals.add(SIGINT);
  s.signals.add(SIGTERM);
  s.signals.async_wait([this](beast::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received: finishing in-flight requests, then stopping", signal);
    RequestShutdown();
  });
}

void Server::RequestShutdown() {
  Impl& s = *impl_;
  if (s.shutdown_requested.exchange(true)) return;
  asio::post(s.ioc, [&s] { s.BeginShutdown(); });
}

void Server::Wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace thunder::http
