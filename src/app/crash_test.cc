// Crash test: the real `thunder serve` process under a flash sale from many connections,
// killed with SIGKILL at random moments and restarted, round after round. Checked against
// the clients' own record: every acknowledged order is there, every acknowledged payment
// holds, no drop is oversold, and retries return the original order.
// Rounds: THUNDER_CRASH_ROUNDS (default 20).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "core/test_dir.h"
#include "http/test_client.h"

namespace thunder {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> args, const std::string& log) {
    std::ofstream(log, std::ios::trunc).close();  // never read the previous start's output
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    // Wait for the URL line.
    const std::regex url(R"(serving at http://127\.0\.0\.1:(\d+)/)");
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      output_ = text.str();
      std::smatch m;
      if (std::regex_search(output_, m, url)) port_ = static_cast<uint16_t>(std::stoi(m[1]));
      if (port_ == 0) std::this_thread::sleep_for(25ms);
    }
  }
  ~ServerProcess() { Kill(); }
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  uint16_t port() const { return port_; }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string output_;
};

std::string fmt_buyer(int round, int client, int i) {
  return "r" + std::to_string(round) + "c" + std::to_string(client) + "n" + std::to_string(i);
}

struct Acked {
  std::string order_id;
  std::string drop_id;
  std::string buyer;
  std::string key;
  bool paid = false;
};

constexpr int64_t kStock = 1500;  // per drop

TEST(CrashTest, KillNineNeverLosesAnAcknowledgedOrder) {
  const int rounds =
      std::getenv("THUNDER_CRASH_ROUNDS") ? std::atoi(std::getenv("THUNDER_CRASH_ROUNDS")) : 20;
  const TestDir dir("crash");  // removed however the test ends
  const std::string data = dir.path() + "/data";
  const std::string log = dir.path() + "/server.log";
  auto args = [&](const char* cmd) {
    return std::vector<std::string>{THUNDER_BINARY, cmd,           "--data-dir",   data,
                                    "--listen",     "127.0.0.1:0", "--partitions", "2"};
  };

  // First start: the demo data, whose SKUs the drops sell, and an admin token.
  std::string token;
  {
    ServerProcess demo(args("demo"), log);
    ASSERT_NE(demo.port(), 0) << demo.output();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(demo.output(), m, std::regex("(st_[0-9a-f]{64})")));
    token = m[1];
  }

  std::mt19937 rng(20261127);
  std::vector<Acked> acked;
  std::vector<std::string> drops;
  int total_acks = 0, total_kills = 0;
  size_t checked_through = 0;
  // One more start than kills: the last one only checks.
  for (int round = 0; round <= rounds; ++round) {
    ServerProcess server(args("serve"), log);
    ASSERT_NE(server.port(), 0) << server.output();
    http::TestClient admin(server.port(), 2s);

    // What the last round acknowledged is all still there, as it was acknowledged, and so
    // is a sample of the rounds before (all of them are checked after the last round).
    const bool last_round = round == rounds;
    for (size_t i = 0; i < acked.size(); ++i) {
      if (!last_round && i < checked_through && rng() % 50 != 0) continue;
      const Acked& a = acked[i];
      auto r = admin.Get("/v1/orders/" + a.order_id, token);
      ASSERT_EQ(r.status, 200) << "lost acknowledged order " << a.order_id << " after round "
                               << round;
      auto o = json::parse(r.body);
      EXPECT_EQ(o["buyer"], a.buyer);
      if (a.paid) {
        EXPECT_EQ(o["state"], "paid") << a.order_id;
      }
    }
    checked_through = acked.size();
    // Judged by what clients were told: the units acknowledged per drop (one each, never
    // cancelled, long before their pay-by) fit in the stock the drop was created with,
    // and the drop holds every one of them.
    std::map<std::string, int64_t> acked_units;
    for (const Acked& a : acked) ++acked_units[a.drop_id];
    for (const auto& [d, units] : acked_units) {
      EXPECT_LE(units, kStock) << "clients of drop " << d << " were sold " << units << " units";
      auto j = json::parse(admin.Get("/v1/drops/" + d, token).body);
      EXPECT_GE(j["reserved"].get<int64_t>() + j["sold"].get<int64_t>(), units) << "drop " << d;
    }
    if (last_round) break;
    for (const std::string& d : drops) {
      auto j = json::parse(admin.Get("/v1/drops/" + d, token).body);
      EXPECT_GE(j["remaining"].get<int64_t>(), 0);
      EXPECT_EQ(
          j["remaining"].get<int64_t>() + j["reserved"].get<int64_t>() + j["sold"].get<int64_t>(),
          j["total"].get<int64_t>())
          << "drop " << d;
    }
    // Retries of acknowledged orders return the original.
    for (int i = 0; i < 20 && !acked.empty(); ++i) {
      const Acked& a = acked[rng() % acked.size()];
      auto r = admin.Post("/v1/drops/" + a.drop_id + "/orders",
                          json({{"buyer", a.buyer}, {"idempotency_key", a.key}}).dump(), token);
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(json::parse(r.body)["id"], a.order_id);
    }

    // A new drop each round, small enough to sell out under load.
    auto created = admin.Post("/v1/drops",
                              json({{"sku_id", std::to_string(1 + round % 20)},
                                    {"stock", kStock},
                                    {"price", {{"amount_fen", 990}}},
                                    {"starts_at", "2020-01-01T00:00:00Z"},
                                    {"ends_at", "2099-01-01T00:00:00Z"},
                                    {"per_buyer_limit", 1},
                                    {"idempotency_key", "round-" + std::to_string(round)}})
                                  .dump(),
                              token);
    ASSERT_TRUE(created.status == 201 || created.status == 200)
        << created.status << " " << created.body << server.output();
    const std::string drop = json::parse(created.body)["id"];
    if (std::find(drops.begin(), drops.end(), drop) == drops.end()) drops.push_back(drop);

    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&, c] {
        http::TestClient client(server.port(), 1s);
        for (int i = 0; !stop; ++i) {
          const std::string buyer = fmt_buyer(round, c, i);
          const std::string key = "k-" + buyer;
          auto r = client.Post("/v1/drops/" + drop + "/orders",
                               json({{"buyer", buyer}, {"idempotency_key", key}}).dump(), token);
          if (r.status == 0) break;  // the server is gone
          if (r.status != 201 && r.status != 200) continue;
          Acked a{json::parse(r.body)["id"], drop, buyer, key, false};
          if (i % 3 == 0) {
            auto p = client.Post("/v1/orders/" + a.order_id + "/pay", "", token);
            if (p.status == 0) {
              std::lock_guard lock(mu);
              acked.push_back(a);
              break;
            }
            a.paid = p.status == 200;
          }
          std::lock_guard lock(mu);
          acked.push_back(a);
          ++total_acks;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 400));
    server.Kill();
    ++total_kills;
    stop = true;
    for (auto& t : clients) t.join();
  }
  std::cout << "crash test: " << total_kills << " kills, " << total_acks << " acknowledged orders, "
            << drops.size() << " drops\n";
  EXPECT_GT(total_acks, 0);
}

}  // namespace
}  // namespace thunder
