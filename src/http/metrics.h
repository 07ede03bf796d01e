// Request metrics in Prometheus text format: a request counter and a latency histogram per
// route, method and status. Safe to call from every I/O thread at once.
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

  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds);
  void ConnectionOpened();
  void ConnectionClosed();

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

}  // namespace thunder::http
