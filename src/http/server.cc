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
#include <ctime>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/mutex.h"
#include "http/worker_pool.h"

namespace thunder::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// How long a connection in a reserved slot may take to send its one request.
constexpr std::chrono::milliseconds kSystemOnlyTimeout{2'000};

// One client connection. The session coroutine owns it; the server's registry holds a
// weak reference so that shutdown can close it while it is idle.
struct Connection {
  Connection(tcp::socket socket, std::string peer_ip)
      : stream(std::move(socket)), ip(std::move(peer_ip)) {}
  beast::tcp_stream stream;
  const std::string ip;      // the client's address, for the per-IP cap
  bool system_only = false;  // let in over the cap: /healthz and /metrics only; set once
  bool busy = false;         // touched only on the connection's strand
};

// A client's X-Request-Id is echoed only when it is short and made of token characters,
// so that it can go into a header and a log line as it is.
bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// 128 random bits as hex: unique enough to find one request in the logs.
std::string NewRequestId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t half = 0; half < 2; ++half) {
    uint64_t bits = random();
    for (size_t i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = kDigits[bits & 0xf];
  }
  return id;
}

std::string RequestIdOf(const bhttp::request<bhttp::string_body>& in) {
  if (auto it = in.find("X-Request-Id"); it != in.end() && IsSaneRequestId(it->value())) {
    return std::string(it->value());
  }
  return NewRequestId();
}

// The Date header's value (IMF-fixdate), formatted once a second per thread.
std::string_view HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t formatted_second = -1;
  thread_local char text[40];
  thread_local int length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_second) {
    std::tm parts{};
    gmtime_r(&now, &parts);
    length = std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                           kDays[parts.tm_wday], parts.tm_mday, kMonths[parts.tm_mon],
                           parts.tm_year + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec);
    formatted_second = now;
  }
  return {text, static_cast<size_t>(std::max(0, length))};
}

// Checks a parsed request header against what Beast lets through. A Transfer-Encoding that
// does not end in chunked leaves the body's length unknown (Beast would read none and take
// the rest as the next request), so it is refused, as is a Host that is missing on
// HTTP/1.1 or given twice, and a second Authorization or Idempotency-Key.
Status CheckFraming(const bhttp::request_parser<bhttp::string_body>& parser) {
  const auto& in = parser.get();
  if (in.count(bhttp::field::transfer_encoding) > 0 && !parser.chunked()) {
    return Status::InvalidArgument("bad_transfer_encoding",
                                   "the last Transfer-Encoding must be chunked");
  }
  const size_t hosts = in.count(bhttp::field::host);
  if (hosts > 1 || (hosts == 0 && in.version() >= 11)) {
    return Status::InvalidArgument("bad_host", "an HTTP/1.1 request needs exactly one Host header");
  }
  // Two credentials leave who is calling ambiguous; no silent first-one-wins.
  if (in.count(bhttp::field::authorization) > 1) {
    return Status::InvalidArgument("bad_authorization",
                                   "a request carries at most one Authorization header");
  }
  // Two keys would make a retry ambiguous in the same way.
  if (in.count("Idempotency-Key") > 1) {
    return Status::InvalidArgument("idempotency_key_mismatch",
                                   "a request carries at most one Idempotency-Key header",
                                   "idempotency_key");
  }
  return Status::Ok();
}

Request ToRequest(const bhttp::request<bhttp::string_body>& in, Status& query_status) {
  Request req;
  req.request_id = RequestIdOf(in);
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
  if (auto it = in.find("Idempotency-Key"); it != in.end()) {
    req.idempotency_key = std::string(it->value());
  }
  req.body = in.body();
  return req;
}

// The response as bytes on the wire. Writing them directly is cheaper than Beast's
// serializer, and every header here comes from our own code, never from a client.
// A request id is either sane text from the client or our own (IsSaneRequestId). An answer
// to HEAD has the headers, Content-Length included, of the GET answer, and no body.
std::string WireFormat(const Response& r, unsigned version, bool keep_alive,
                       std::string_view request_id, bool head) {
  const std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  std::string out;
  out.reserve(240 + r.body.size());
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason;
  out += "\r\nServer: thunder\r\nDate: ";
  out += HttpDate();
  out += "\r\nX-Request-Id: ";
  out += request_id;
  out += "\r\nContent-Type: ";
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
  if (!head) out += r.body;
  return out;
}

bool IsSystemPath(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/healthz" || path == "/metrics";
}

// One line per request: at debug level, or warn for a server-side failure.
void LogRequest(std::string_view request_id, std::string_view method, std::string_view route,
                int status, double seconds) {
  const auto level = status >= 500 ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(level, "request {} {} {} -> {} in {:.3f} ms", request_id, MethodLabel(method), route,
              status, seconds * 1000);
}

enum class Admission { kOrdinary, kSystemOnly, kRefused };

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

  Mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections GUARDED_BY(mu);
  uint64_t next_connection_id GUARDED_BY(mu) = 0;
  std::unordered_map<std::string, uint32_t> connections_per_ip GUARDED_BY(mu);
  uint32_t ordinary_connections GUARDED_BY(mu) = 0;
  uint32_t system_connections GUARDED_BY(mu) = 0;
  // Blocking routes and uncached token lookups. Declared after `ioc`, so it is destroyed
  // (finishing its queue, whose answers are posted to `ioc`) before `ioc` is.
  std::unique_ptr<WorkerPool> workers;

  // Counts a new connection against the caps; 0 when it is refused.
  uint64_t Register(const std::shared_ptr<Connection>& c) {
    MutexLock lock(mu);
    uint32_t& from_ip = connections_per_ip[c->ip];
    Admission admission = Admission::kOrdinary;
    if (from_ip >= options.max_connections_per_ip) {
      admission = Admission::kRefused;
    } else if (ordinary_connections >= options.max_connections) {
      admission = system_connections < options.reserved_system_connections ? Admission::kSystemOnly
                                                                           : Admission::kRefused;
    }
    if (admission == Admission::kRefused) {
      if (from_ip == 0) connections_per_ip.erase(c->ip);
      return 0;
    }
    ++from_ip;
    c->system_only = admission == Admission::kSystemOnly;
    ++(c->system_only ? system_connections : ordinary_connections);
    connections.emplace(++next_connection_id, c);
    return next_connection_id;
  }

  void Unregister(uint64_t id, const Connection& c) {
    bool last = false;
    {
      MutexLock lock(mu);
      connections.erase(id);
      --(c.system_only ? system_connections : ordinary_connections);
      if (auto it = connections_per_ip.find(c.ip); it != connections_per_ip.end()) {
        if (--it->second == 0) connections_per_ip.erase(it);
      }
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
      beast::error_code peer_ec;
      const auto peer = socket.remote_endpoint(peer_ec);
      if (peer_ec) continue;  // the client left already; the socket closes here
      auto conn = std::make_shared<Connection>(std::move(socket), peer.address().to_string());
      const uint64_t id = Register(conn);
      if (id == 0) {
        // Over a cap: close at once, without reading, so the descriptor is free again
        // (counted first, so whoever sees the close also sees the count).
        metrics.ConnectionRefused();
        beast::error_code ignored;
        conn->stream.socket().close(ignored);
        continue;
      }
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
          router.DispatchAsync(
              req,
              [shared](Router::Dispatched d) {
                auto ex = asio::get_associated_executor(*shared);
                asio::post(ex, [shared, d = std::move(d)]() mutable { (*shared)(std::move(d)); });
              },
              workers.get());
        },
        asio::use_awaitable);
  }

  // Answers an error found before routing, then closes the connection. `parser` tells the
  // method and request id when the header was read.
  asio::awaitable<void> RejectAndClose(Connection& conn, const Status& status,
                                       const bhttp::request_parser<bhttp::string_body>& parser) {
    const bool have_header = parser.is_header_done();
    const std::string request_id = have_header ? RequestIdOf(parser.get()) : NewRequestId();
    const std::string method = have_header ? std::string(parser.get().method_string()) : "";
    const std::string bytes = WireFormat(ErrorResponse(status), 11, false, request_id, false);
    conn.stream.expires_after(options.read_timeout);
    auto [ec, n] = co_await asio::async_write(conn.stream, asio::buffer(bytes), kAwait);
    metrics.ObserveRequest("unmatched", method, status.http_status(), 0);
    LogRequest(request_id, method, "unmatched", status.http_status(), 0);
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
      // A connection let in over the cap may not sit idle in a reserved slot.
      conn->stream.expires_after(conn->system_only ? std::min<std::chrono::milliseconds>(
                                                         options.read_timeout, kSystemOnlyTimeout)
                                                   : options.read_timeout);
      auto [ec, n] = co_await bhttp::async_read(conn->stream, buffer, parser, kAwait);
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          co_await RejectAndClose(*conn,
                                  Status(ErrorKind::kPayloadTooLarge, "payload_too_large",
                                         "request body is larger than " +
                                             std::to_string(options.max_body_bytes) + " bytes"),
                                  parser);
        } else if (ec == bhttp::error::header_limit) {
          co_await RejectAndClose(*conn,
                                  Status(ErrorKind::kHeaderTooLarge, "header_too_large",
                                         "request header is larger than " +
                                             std::to_string(options.max_header_bytes) + " bytes"),
                                  parser);
        } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                   ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
          co_await RejectAndClose(
              *conn,
              Status::InvalidArgument("bad_request", "malformed HTTP request: " + ec.message()),
              parser);
        }
        break;  // timeout, cancellation, a closed connection: nothing to answer
      }
      if (Status framing = CheckFraming(parser); !framing.ok()) {
        co_await RejectAndClose(*conn, framing, parser);
        break;
      }
      const auto& in = parser.get();
      if (conn->system_only && !IsSystemPath(in.target())) {
        co_await RejectAndClose(*conn,
                                Status(ErrorKind::kUnavailable, "too_many_connections",
                                       "the server is at its connection limit; retry later"),
                                parser);
        break;
      }
      conn->busy = true;
      const auto started = std::chrono::steady_clock::now();
      Status query_status;
      Request req = ToRequest(in, query_status);
      Router::Dispatched out;
      if (query_status.ok()) {
        out = co_await Dispatch(req);
      } else {
        out = {ErrorResponse(query_status), "unmatched"};
      }
      const int status = out.response.status;
      const bool keep_alive = in.keep_alive() && !stopping && !conn->system_only;
      const std::string bytes = WireFormat(out.response, in.version(), keep_alive, req.request_id,
                                           in.method() == bhttp::verb::head);
      conn->stream.expires_after(options.read_timeout);
      auto [wec, written] = co_await asio::async_write(conn->stream, asio::buffer(bytes), kAwait);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      metrics.ObserveRequest(out.route_label, req.method, status, took.count());
      LogRequest(req.request_id, req.method, out.route_label, status, took.count());
      conn->busy = false;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->stream.socket().close(ignored);
    metrics.ConnectionClosed();
    Unregister(id, *conn);
  }

  void BeginShutdown() {
    if (stopping.exchange(true)) return;
    beast::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    std::vector<std::shared_ptr<Connection>> open;
    {
      MutexLock lock(mu);
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
  // spdlog makes its registry on first use; make it here, before the I/O threads log at
  // once (ThreadSanitizer cannot see the guard inside the uninstrumented library).
  (void)spdlog::default_logger_raw();
  s.workers = std::make_unique<WorkerPool>(s.options.blocking_threads,
                                           std::max<uint32_t>(1, s.options.max_blocking_queue),
                                           "thunder-store");
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
