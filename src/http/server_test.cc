#include "http/server.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "http/system_routes.h"
#include "http/test_client.h"

namespace thunder::http {
namespace {

using namespace std::chrono_literals;

std::string ThisThreadName() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.port = 0;
    // "Bearer cached" is answered from memory; any other token needs the (slow) store.
    router_ = std::make_unique<Router>(
        [this](std::string_view) -> Result<Principal> {
          std::lock_guard lock(names_mu_);
          store_auth_thread_ = ThisThreadName();
          return Principal{1, Role::kAdmin, ""};
        },
        [](std::string_view header) -> std::optional<Result<Principal>> {
          if (header == "Bearer cached") return Result<Principal>(Principal{1, Role::kAdmin, ""});
          return std::nullopt;
        });
    AddSystemRoutes(*router_, metrics_, "test");
    Route where{"GET",
                "/where",
                true,
                {"Name the thread that runs this handler", "", 200, "", "", {}},
                [](const RouteContext&) { return Response::Json(200, ThisThreadName()); }};
    router_->Add(where);
    where.pattern = "/where-blocking";
    where.blocking = true;
    router_->Add(where);
    router_->Add({"GET",
                  "/held",
                  false,
                  {"A blocking route that waits until the test lets it go", "", 200, "", "", {}},
                  [this](const RouteContext&) {
                    ++held_started_;
                    while (!release_held_) std::this_thread::sleep_for(5ms);
                    return Response::Json(200, R"({"held":true})");
                  },
                  nullptr,
                  true});
    router_->Add({"POST",
                  "/echo",
                  false,
                  {"Echo the body", "", 200, "", "", {}},
                  [](const RouteContext& ctx) { return Response::Json(200, ctx.request.body); }});
    router_->Add({"GET",
                  "/slow",
                  false,
                  {"Answer after 400 ms", "", 200, "", "", {}},
                  [this](const RouteContext&) {
                    slow_started_ = true;
                    std::this_thread::sleep_for(400ms);
                    return Response::Json(200, R"({"slow":true})");
                  }});
    server_ = std::make_unique<Server>(options, *router_, metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }

  void WaitForOpenConnections(int n) {
    const std::string want = "thunder_http_open_connections " + std::to_string(n) + "\n";
    for (int i = 0; i < 200 && metrics_.Render().find(want) == std::string::npos; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_NE(metrics_.Render().find(want), std::string::npos) << metrics_.Render();
  }

  std::string StoreAuthThread() {
    std::lock_guard lock(names_mu_);
    return store_auth_thread_;
  }

  Metrics metrics_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
  std::atomic<bool> slow_started_{false};
  std::atomic<int> held_started_{0};
  std::atomic<bool> release_held_{false};
  std::mutex names_mu_;
  std::string store_auth_thread_;  // guarded by names_mu_
};

// Blocks until the server has counted the connection: a request on it got its answer.
void Occupy(TestClient& client) { ASSERT_EQ(client.Get("/healthz").status, 200); }

TEST_F(ServerTest, AnswersHealthzAndKeepsTheConnectionAlive) {
  StartServer();
  TestClient client(server_->port());
  for (int i = 0; i < 3; ++i) {
    auto r = client.Get("/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"status":"ok"})");
    EXPECT_NE(r.headers["connection"], "close");
  }
  // Three answers on one connection: the raw client would see a closed socket otherwise.
  EXPECT_FALSE(client.ServerClosed(200ms));
}

TEST_F(ServerTest, OversizedBodyIs413) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  StartServer(o);
  TestClient client(server_->port());
  auto r = client.Post("/echo", std::string(4096, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("payload_too_large"), std::string::npos);
  TestClient small(server_->port());
  EXPECT_EQ(small.Post("/echo", R"({"a":1})").status, 200);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  StartServer(o);
  TestClient client(server_->port());
  auto r = client.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') +
                          "\r\n\r\n");
  EXPECT_EQ(r.status, 431);
}

TEST_F(ServerTest, MalformedRequestIs400) {
  StartServer();
  TestClient client(server_->port());
  auto r = client.SendRaw("GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("bad_request"), std::string::npos);
}

TEST_F(ServerTest, TricklingClientIsCutOff) {
  ServerOptions o;
  o.read_timeout = 500ms;
  StartServer(o);
  TestClient client(server_->port(), 3s);
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: aaaaaaaaaaaa\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  size_t sent = 0;
  bool cut = false;
  // One byte every 100 ms would take about 6 s for the whole request.
  for (; sent < request.size(); ++sent) {
    if (!client.WriteRaw(request.substr(sent, 1))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
    if (std::chrono::steady_clock::now() - start > 1500ms) break;
  }
  if (!cut) cut = client.ServerClosed();
  EXPECT_TRUE(cut);
  EXPECT_LT(sent, request.size());
}

TEST_F(ServerTest, BadQueryStringIs400) {
  StartServer();
  TestClient client(server_->port());
  auto r = client.Get("/healthz?x=%ff");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid_utf8"), std::string::npos);
}

TEST_F(ServerTest, ShutdownFinishesInFlightRequests) {
  StartServer();
  TestClient idle(server_->port());
  ASSERT_EQ(idle.Get("/healthz").status, 200);  // an idle kept-alive connection

  ClientResponse slow;
  std::thread caller([&] {
    TestClient client(server_->port());
    slow = client.Get("/slow");
  });
  while (!slow_started_) std::this_thread::sleep_for(5ms);
  server_->RequestShutdown();
  server_->Wait();
  caller.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, R"({"slow":true})");
  EXPECT_TRUE(idle.ServerClosed());
  TestClient late(server_->port(), 1s);
  EXPECT_EQ(late.Get("/healthz").status, 0);
}

TEST_F(ServerTest, MetricsCountRequestsPerRoute) {
  StartServer();
  TestClient client(server_->port());
  client.Get("/healthz");
  client.Get("/healthz");
  client.Get("/missing");
  auto r = client.Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(
      r.body.find(R"(thunder_http_requests_total{method="GET",route="/healthz",status="200"} 2)"),
      std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"(route="unmatched",status="404")"), std::string::npos);
  EXPECT_NE(r.body.find("thunder_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(ServerTest, OpenApiIsServed) {
  StartServer();
  TestClient client(server_->port());
  auto r = client.Get("/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = nlohmann::json::parse(r.body);
  EXPECT_TRUE(doc["paths"].contains("/healthz"));
  EXPECT_TRUE(doc["paths"].contains("/slow"));
}

TEST_F(ServerTest, RandomMethodsDoNotGrowMetrics) {
  StartServer();
  std::mt19937 random(7);
  auto random_method = [&] {
    std::string m;
    for (int i = 0; i < 10; ++i) m.push_back(static_cast<char>('A' + random() % 26));
    return m;
  };
  TestClient client(server_->port());
  for (int i = 0; i < 5; ++i) client.Request(random_method(), "/healthz", "", "");
  const size_t before = client.Get("/metrics").body.size();
  std::string one_of_them;
  for (int i = 0; i < 300; ++i) {
    one_of_them = random_method();
    client.Request(one_of_them, i % 2 ? "/healthz" : "/nowhere", "", "");
  }
  const std::string after = client.Get("/metrics").body;
  EXPECT_EQ(after.find(one_of_them), std::string::npos);
  EXPECT_NE(after.find(R"(method="other")"), std::string::npos);
  // Only counts change, and the one new route/status pair of /nowhere's 404 appears.
  EXPECT_LT(after.size(), before + 2000) << after;
}

TEST_F(ServerTest, ConnectionsOverThePerIpCapAreClosedAtOnce) {
  ServerOptions o;
  o.max_connections_per_ip = 2;
  StartServer(o);
  TestClient first(server_->port()), second(server_->port());
  Occupy(first);
  Occupy(second);
  TestClient third(server_->port());
  ASSERT_TRUE(third.WriteRaw(""));  // connects
  EXPECT_TRUE(third.ServerClosed(1s));
  EXPECT_NE(metrics_.Render().find("thunder_http_connections_refused_total 1"), std::string::npos);
  // A slot frees up when a connection closes.
  first.Close();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    TestClient again(server_->port());
    served = again.Get("/healthz").status == 200;
    if (!served) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(ServerTest, ReservedSlotsKeepHealthzAndMetricsReachableAtTheCap) {
  ServerOptions o;
  o.max_connections = 2;
  o.reserved_system_connections = 2;
  StartServer(o);
  TestClient first(server_->port()), second(server_->port());
  Occupy(first);
  Occupy(second);
  TestClient health(server_->port());
  auto h = health.Get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.headers["connection"], "close");  // a reserved slot serves one request
  WaitForOpenConnections(2);                    // each reserved connection closes after its answer
  TestClient metrics(server_->port());
  EXPECT_EQ(metrics.Get("/metrics").status, 200);
  WaitForOpenConnections(2);
  TestClient other(server_->port());
  auto refused = other.Post("/echo", "{}");
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("too_many_connections"), std::string::npos);
  // With the reserve taken too, a new connection is closed without an answer.
  WaitForOpenConnections(2);  // the server has closed the three above
  TestClient idle1(server_->port()), idle2(server_->port()), late(server_->port());
  ASSERT_TRUE(idle1.WriteRaw(""));
  ASSERT_TRUE(idle2.WriteRaw(""));
  WaitForOpenConnections(4);
  ASSERT_TRUE(late.WriteRaw(""));
  EXPECT_TRUE(late.ServerClosed(1s)) << metrics_.Render();
  EXPECT_FALSE(idle1.ServerClosed(100ms));
}

TEST_F(ServerTest, TransferEncodingMustEndInChunked) {
  StartServer();
  for (const char* coding : {"gzip", "chunked, gzip", "identity"}) {
    TestClient client(server_->port());
    auto r = client.SendRaw(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") +
                            coding + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(r.status, 400) << coding;
    EXPECT_NE(r.body.find("bad_transfer_encoding"), std::string::npos) << coding;
  }
  TestClient client(server_->port());
  auto ok = client.SendRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hello");
}

TEST_F(ServerTest, Http11NeedsExactlyOneHost) {
  StartServer();
  TestClient none(server_->port());
  auto r = none.SendRaw("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("bad_host"), std::string::npos);
  TestClient two(server_->port());
  EXPECT_EQ(two.SendRaw("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400);
  TestClient old(server_->port());
  EXPECT_EQ(old.SendRaw("GET /healthz HTTP/1.0\r\n\r\n").status, 200);
}

// Two credentials or two idempotency keys are ambiguous: refused, never first-one-wins.
TEST_F(ServerTest, OneAuthorizationAndOneIdempotencyKeyAtMost) {
  StartServer();
  TestClient auth(server_->port());
  auto r = auth.SendRaw(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n"
      "Authorization: Bearer b\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("bad_authorization"), std::string::npos) << r.body;
  TestClient key(server_->port());
  r = key.SendRaw(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("idempotency_key_mismatch"), std::string::npos) << r.body;
  TestClient one(server_->port());
  EXPECT_EQ(
      one.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\n\r\n").status,
      200);
}

TEST_F(ServerTest, HeadAnswersHaveHeadersButNoBody) {
  StartServer();
  TestClient client(server_->port());
  ASSERT_TRUE(client.WriteRaw("HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string raw = client.ReadUntilClosed();
  ASSERT_TRUE(raw.starts_with("HTTP/1.1 200 ")) << raw;
  const size_t end = raw.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(raw.size(), end + 4) << "a body followed: " << raw;
  EXPECT_NE(raw.find("Content-Length: " + std::to_string(std::string(R"({"status":"ok"})").size())),
            std::string::npos)
      << raw;
}

TEST_F(ServerTest, EveryAnswerCarriesDateAndRequestId) {
  StartServer();
  TestClient client(server_->port());
  const std::regex date(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)");
  auto a = client.Get("/healthz");
  auto b = client.Get("/nowhere");
  for (auto* r : {&a, &b}) {
    EXPECT_TRUE(std::regex_match(r->headers["date"], date)) << r->headers["date"];
    EXPECT_EQ(r->headers["x-request-id"].size(), 32u);
  }
  EXPECT_NE(a.headers["x-request-id"], b.headers["x-request-id"]);
  // A sane id is echoed; one with spaces, quotes or too many characters is replaced.
  auto echoed =
      client.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-42.a\r\n\r\n");
  EXPECT_EQ(echoed.headers["x-request-id"], "trace-42.a");
  for (const std::string& bad : {std::string("a b"), std::string("\"x\""), std::string(200, 'a')}) {
    auto r =
        client.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + bad + "\r\n\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["x-request-id"].size(), 32u) << bad;
  }
  // Answers made before routing carry them too.
  TestClient bad(server_->port());
  auto rejected = bad.SendRaw("GET /healthz HTTP/1.1\r\nX-Request-Id: no-host\r\n\r\n");
  EXPECT_EQ(rejected.status, 400);
  EXPECT_EQ(rejected.headers["x-request-id"], "no-host");
  EXPECT_TRUE(std::regex_match(rejected.headers["date"], date));
}

TEST_F(ServerTest, TheLogLineOfARequestNamesItsId) {
  auto previous = spdlog::default_logger();
  std::ostringstream lines;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  StartServer();
  {
    TestClient client(server_->port());
    client.SendRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: find-me-7\r\n\r\n");
    auto r = client.Get("/nowhere");
    server_.reset();  // every log line is written
    EXPECT_NE(lines.str().find(r.headers["x-request-id"]), std::string::npos) << lines.str();
  }
  spdlog::set_default_logger(previous);
  EXPECT_NE(lines.str().find("find-me-7"), std::string::npos) << lines.str();
}

TEST_F(ServerTest, BlockingRoutesRunOffTheIoThreads) {
  StartServer();
  TestClient client(server_->port());
  auto fast = client.Get("/where", "cached");
  ASSERT_EQ(fast.status, 200);
  EXPECT_EQ(fast.body, "thunder-io");  // no store involved: stays on the I/O thread
  auto blocking = client.Get("/where-blocking", "cached");
  ASSERT_EQ(blocking.status, 200);
  EXPECT_NE(blocking.body, "thunder-io");
  EXPECT_EQ(blocking.body, "thunder-store");
  EXPECT_EQ(StoreAuthThread(), "");  // a cached token never reached the store
}

TEST_F(ServerTest, TokenLookupsThatMissTheCacheRunOffTheIoThreads) {
  StartServer();
  TestClient client(server_->port());
  auto r = client.Get("/where", "not-cached");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(StoreAuthThread(), "thunder-store");
}

TEST_F(ServerTest, AFullWorkerQueueAnswers503) {
  ServerOptions o;
  o.blocking_threads = 1;
  o.max_blocking_queue = 1;
  StartServer(o);
  ClientResponse running, queued;
  std::thread a([&] { running = TestClient(server_->port()).Get("/held"); });
  while (held_started_ == 0) std::this_thread::sleep_for(5ms);
  std::thread b([&] { queued = TestClient(server_->port()).Get("/held"); });
  std::this_thread::sleep_for(200ms);  // the second request waits in the queue
  TestClient third(server_->port());
  auto busy = third.Get("/held");
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(busy.body.find("server_busy"), std::string::npos);
  EXPECT_EQ(third.Get("/healthz").status, 200);  // the I/O threads are free all along
  release_held_ = true;
  a.join();
  b.join();
  EXPECT_EQ(running.status, 200);
  EXPECT_EQ(queued.status, 200);
}

}  // namespace
}  // namespace thunder::http
