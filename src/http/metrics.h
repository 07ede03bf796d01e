// Request metrics in Prometheus text format: a request counter and a latency histogram per
// route, method and status. Safe to call from every I/O thread at once. No label value
// comes from a client: methods outside a fixed list count as "other", and routes are the
// patterns the code registered (or "unmatched"), so clients cannot grow the output.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace thunder::http {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // `route` must be a registered pattern or "unmatched", never text from the request.
  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds);
  void ConnectionOpened();
  void ConnectionClosed();
  // A connection closed at once because the server or its client IP was at its cap.
  void ConnectionRefused();

  // A value read when /metrics is scraped, from another part of the platform (the engine's
  // counters, say). `read` must be thread-safe and outlive the Metrics. Call at start-up.
  void AddCounter(std::string name, std::string help, std::function<double()> read);
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  // The exposition text for GET /metrics.
  std::string Render() const;

  prometheus::Registry& registry();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The method as a metrics label: itself when it is a standard HTTP method, else "other".
std::string_view MethodLabel(std::string_view method);

}  // namespace thunder::http
