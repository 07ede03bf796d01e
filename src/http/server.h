// Server: HTTP/1.1 on Boost.Beast with C++20 coroutines. Keep-alive; a fixed pool of I/O
// threads; limits on header size (431), body size (413) and on how long a request may
// take to arrive, which also cuts off clients that trickle bytes. Caps on open connections,
// in all and per client IP, with a few slots kept for /healthz and /metrics. Routes that
// may block on the store run on a small worker pool, never on an I/O thread. Every answer
// carries Date and X-Request-Id. Shutdown is graceful:
// stop accepting, let every request already read get its answer, close idle connections.
// Start(), RequestShutdown() and Wait() may be called from any thread. The Router and
// Metrics must outlive the Server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/metrics.h"
#include "http/router.h"

namespace thunder::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port; port() tells which
  int io_threads = 2;
  uint32_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 1024 * 1024;
  // The longest a client may take to send one whole request (or stay idle between
  // requests on a kept-alive connection); also bounds writing a response.
  std::chrono::milliseconds read_timeout{15'000};
  // How long shutdown waits for in-flight requests before it stops anyway.
  std::chrono::milliseconds shutdown_grace{10'000};
  // Open connections in all and from one client IP. A connection over either cap is
  // closed at once, except that while only the total is reached, up to
  // `reserved_system_connections` more are let in to ask for /healthz or /metrics (one
  // request each; anything else gets 503), so that monitoring still gets through.
  uint32_t max_connections = 10'000;
  uint32_t max_connections_per_ip = 1'000;
  uint32_t reserved_system_connections = 8;
  // The worker pool for routes and token lookups that may block on the store: its
  // threads, and how many requests may wait for one before the answer is 503.
  int blocking_threads = 2;
  uint32_t max_blocking_queue = 1'024;
};

class Server {
 public:
  Server(ServerOptions options, const Router& router, Metrics& metrics);
  ~Server();  // shuts down and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the I/O threads.
  Status Start();
  uint16_t port() const;
  // Makes SIGINT and SIGTERM start a graceful shutdown. Call before Start().
  void ShutdownOnSignals();
  // Starts a graceful shutdown; returns at once. Idempotent.
  void RequestShutdown();
  // Blocks until the server has shut down and its threads have ended.
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thunder::http
