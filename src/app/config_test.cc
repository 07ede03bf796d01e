#include "app/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace thunder::app {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("thunder_config_" + std::to_string(::getpid()) + ".toml"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  Status Load(const std::string& text, Config& c) {
    EXPECT_TRUE(WriteFileAtomically(Env::Default(), path_, text).ok());
    return LoadConfigFile(Env::Default(), path_, c);
  }
  std::string path_;
};

TEST_F(ConfigTest, DefaultsAreValid) {
  Config c;
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.StoreSpec(), "sqlite:data/thunder.db");
  auto listen = c.ListenAddress();
  ASSERT_TRUE(listen.ok());
  EXPECT_EQ(listen->first, "127.0.0.1");
  EXPECT_EQ(listen->second, 8080);
}

TEST_F(ConfigTest, ReadsEverySetting) {
  Config c;
  Status s = Load(R"(
[server]
listen = "0.0.0.0:9090"
io_threads = 4
max_header_bytes = 8192
max_body_bytes = 65536
read_timeout_ms = 5000
shutdown_grace_ms = 2000
max_connections = 500
max_connections_per_ip = 20
store_threads = 3
store_queue = 64
[engine]
snapshot_every = 5000
drop_retention_hours = 48
[store]
data_dir = "/var/lib/thunder"
uri = "sqlite:/var/lib/thunder/main.db"
[log]
level = "warn"
)",
                  c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.listen, "0.0.0.0:9090");
  EXPECT_EQ(c.io_threads, 4);
  EXPECT_EQ(c.max_header_bytes, 8192u);
  EXPECT_EQ(c.max_body_bytes, 65536u);
  EXPECT_EQ(c.read_timeout_ms, 5000);
  EXPECT_EQ(c.shutdown_grace_ms, 2000);
  EXPECT_EQ(c.max_connections, 500u);
  EXPECT_EQ(c.max_connections_per_ip, 20u);
  EXPECT_EQ(c.store_threads, 3);
  EXPECT_EQ(c.store_queue, 64u);
  EXPECT_EQ(c.snapshot_every, 5000u);
  EXPECT_EQ(c.drop_retention_hours, 48);
  EXPECT_EQ(c.data_dir, "/var/lib/thunder");
  EXPECT_EQ(c.StoreSpec(), "sqlite:/var/lib/thunder/main.db");
  EXPECT_EQ(c.log_level, "warn");
}

TEST_F(ConfigTest, ErrorsNameTheKey) {
  Config c;
  Status unknown = Load("[server]\nlisen = \"x\"\n", c);
  EXPECT_EQ(unknown.field(), "server.lisen");
  EXPECT_NE(unknown.message().find("line 2"), std::string::npos);
  EXPECT_EQ(Load("[server]\nio_threads = \"two\"\n", c).field(), "server.io_threads");
  EXPECT_EQ(Load("[server]\nio_threads = 0\n", c).field(), "server.io_threads");
  EXPECT_EQ(Load("[log]\nlevel = \"loud\"\n", c).field(), "log.level");
  EXPECT_EQ(Load("[server]\nlisten = \"nohost\"\n", c).field(), "listen");
  EXPECT_EQ(Load("[server\n", c).code(), "invalid_config");
  EXPECT_EQ(LoadConfigFile(Env::Default(), "/nonexistent/thunder.toml", c).kind(),
            ErrorKind::kNotFound);
}

TEST_F(ConfigTest, EveryErrorAboutTheFileNamesItsLine) {
  Config c;
  auto expect_line = [&](const std::string& text, int line) {
    const Status s = Load(text, c);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.message().find(path_ + ", line " + std::to_string(line) + ":"), std::string::npos)
        << text << " -> " << s.message();
  };
  expect_line("[server\n", 1);                                           // syntax
  expect_line("[server]\n\nlisen = \"x\"\n", 3);                         // unknown key
  expect_line("[server]\nlisten = \"x:1\"\nio_threads = \"two\"\n", 3);  // wrong type
  expect_line("[server]\n\n\nmax_connections = 0\n", 4);                 // out of range
  expect_line("# settings\n[log]\nlevel = \"loud\"\n", 3);               // refused by Validate
  expect_line("[server]\nlisten = \"nohost\"\n", 2);
  expect_line("\nserver = 5\n", 2);  // not a table
}

TEST_F(ConfigTest, ListenAddressForms) {
  Config c;
  c.listen = "[::1]:8081";
  EXPECT_EQ(c.ListenAddress()->first, "::1");
  c.listen = "127.0.0.1:70000";
  EXPECT_FALSE(c.ListenAddress().ok());
  c.listen = ":80";
  EXPECT_FALSE(c.ListenAddress().ok());
}

}  // namespace
}  // namespace thunder::app
