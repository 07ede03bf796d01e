#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/system_routes.h"
#include "http/test_client.h"

namespace thunder::http {
namespace {

using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    options.port = 0;
    router_ = std::make_unique<Router>([](std::string_view) -> Result<Principal> {
      return Principal{1, Role::kAdmin, ""};
    });
    AddSystemRoutes(*router_, metrics_, "test");
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

  Metrics metrics_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Server> server_;
  std::atomic<bool> slow_started_{false};
};

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

}  // namespace
}  // namespace thunder::http
