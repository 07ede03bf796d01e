#include "http/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <unordered_map>

namespace thunder::http {

struct Metrics::Impl {
  struct Source {
    std::string name;
    std::string help;
    bool counter;
    std::function<double()> read;
  };
  std::vector<Source> sources;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("thunder_http_requests_total")
          .Help("HTTP requests answered, by route, method and status")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram()
          .Name("thunder_http_request_duration_seconds")
          .Help("Time from a request's last byte read to its response handed to the socket")
          .Register(*registry);
  prometheus::Counter& refused_connections =
      prometheus::BuildCounter()
          .Name("thunder_http_connections_refused_total")
          .Help("Connections closed at once: the server or the client's IP was at its cap")
          .Register(*registry)
          .Add({});
  prometheus::Gauge& connections = prometheus::BuildGauge()
                                       .Name("thunder_http_open_connections")
                                       .Help("Client connections currently open")
                                       .Register(*registry)
                                       .Add({});
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST",    "PUT",  "PATCH",
                                                "DELETE", "OPTIONS", "CONNECT", "TRACE"};
  for (const std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return "other";
}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  // A status outside 100-599 cannot come from our code; keep the label set closed anyway.
  const std::string status_label =
      status >= 100 && status <= 599 ? std::to_string(status) : "other";
  const std::string method_label(MethodLabel(method));
  const prometheus::Labels labels{
      {"route", std::string(route)}, {"method", method_label}, {"status", status_label}};
  impl_->requests.Add(labels).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  impl_->latency.Add({{"route", std::string(route)}, {"method", method_label}}, kBuckets)
      .Observe(seconds);
}

void Metrics::ConnectionRefused() { impl_->refused_connections.Increment(); }

void Metrics::ConnectionOpened() { impl_->connections.Increment(); }
void Metrics::ConnectionClosed() { impl_->connections.Decrement(); }

void Metrics::AddCounter(std::string name, std::string help, std::function<double()> read) {
  impl_->sources.push_back({std::move(name), std::move(help), true, std::move(read)});
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  impl_->sources.push_back({std::move(name), std::move(help), false, std::move(read)});
}

std::string Metrics::Render() const {
  std::vector<prometheus::MetricFamily> families = impl_->registry->Collect();
  for (const auto& s : impl_->sources) {
    prometheus::MetricFamily f;
    f.name = s.name;
    f.help = s.help;
    f.type = s.counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
    prometheus::ClientMetric m;
    (s.counter ? m.counter.value : m.gauge.value) = s.read();
    f.metric.push_back(std::move(m));
    families.push_back(std::move(f));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

prometheus::Registry& Metrics::registry() { return *impl_->registry; }

}  // namespace thunder::http
