#include "app/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <thread>

#include "log/wal.h"

namespace thunder::app {
namespace {

Status ConfigError(const std::string& key, const std::string& msg) {
  return Status::InvalidArgument("invalid_config", key + ": " + msg, key);
}

// "thunder.toml, line 3: " before an error about something in the file.
std::string Where(const std::string& path, const toml::source_region& source) {
  return path + ", line " + std::to_string(source.begin.line) + ": ";
}

Status AtLine(const Status& s, const std::string& path, const toml::source_region& source) {
  return Status(s.kind(), s.code(), Where(path, source) + s.message(), s.field());
}

template <typename T>
Status ReadInt(const toml::node& node, const std::string& key, int64_t min, int64_t max, T& out) {
  const auto v = node.value<int64_t>();
  if (!node.is_integer() || !v) return ConfigError(key, "must be an integer");
  if (*v < min || *v > max) {
    return ConfigError(key,
                       "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  out = static_cast<T>(*v);
  return Status::Ok();
}

Status ReadString(const toml::node& node, const std::string& key, std::string& out) {
  if (!node.is_string()) return ConfigError(key, "must be a string");
  out = *node.value<std::string>();
  return Status::Ok();
}

}  // namespace

uint32_t Config::EffectivePartitions(Env& env) const {
  if (partitions > 0) return partitions;
  if (auto existing = log::PartitionsOfExistingLog(env, EngineDir())) return *existing;
  return std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
}

std::string Config::StoreSpec() const {
  return store.empty() ? "sqlite:" + data_dir + "/thunder.db" : store;
}

Result<std::pair<std::string, uint16_t>> Config::ListenAddress() const {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("invalid_listen_address",
                                   "--listen must be host:port, e.g. 127.0.0.1:8080", "listen");
  }
  const std::string port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument("invalid_listen_address",
                                   "port in --listen must be a number from 0 to 65535", "listen");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Status Config::Validate() const {
  RETURN_IF_ERROR(ListenAddress().status());
  if (data_dir.empty()) return ConfigError("data_dir", "must not be empty");
  if (io_threads < 1 || io_threads > 64) return ConfigError("io_threads", "must be 1 to 64");
  if (max_connections < 1) return ConfigError("max_connections", "must be at least 1");
  if (max_connections_per_ip < 1) {
    return ConfigError("max_connections_per_ip", "must be at least 1");
  }
  if (store_threads < 1 || store_threads > 64) {
    return ConfigError("store_threads", "must be 1 to 64");
  }
  if (store_queue < 1) return ConfigError("store_queue", "must be at least 1");
  if (partitions > 256) return ConfigError("engine.partitions", "must be 1 to 256");
  if (log_level != "debug" && log_level != "info" && log_level != "warn" && log_level != "error") {
    return ConfigError("log.level", "must be debug, info, warn or error");
  }
  return Status::Ok();
}

Status LoadConfigFile(Env& env, const std::string& path, Config& config) {
  ASSIGN_OR_RETURN(const std::string text, env.ReadFile(path));
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("invalid_config",
                                   Where(path, e.source()) + std::string(e.description()));
  }
  // Where each key was set, so that a value Validate() refuses is named with its line.
  std::map<std::string, toml::source_region> set_at;
  for (auto&& [section, node] : root) {
    const std::string name(section.str());
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return AtLine(ConfigError(name, "expected a [" + name + "] table"), path, node.source());
    }
    for (auto&& [k, v] : *table) {
      const std::string key = name + "." + std::string(k.str());
      set_at[key] = v.source();
      Status s;
      if (key == "server.listen") {
        s = ReadString(v, key, config.listen);
      } else if (key == "server.io_threads") {
        s = ReadInt(v, key, 1, 64, config.io_threads);
      } else if (key == "server.max_header_bytes") {
        s = ReadInt(v, key, 1024, 1 << 20, config.max_header_bytes);
      } else if (key == "server.max_body_bytes") {
        s = ReadInt(v, key, 1024, int64_t{1} << 30, config.max_body_bytes);
      } else if (key == "server.read_timeout_ms") {
        s = ReadInt(v, key, 100, 3'600'000, config.read_timeout_ms);
      } else if (key == "server.shutdown_grace_ms") {
        s = ReadInt(v, key, 0, 3'600'000, config.shutdown_grace_ms);
      } else if (key == "server.max_connections") {
        s = ReadInt(v, key, 1, 1'000'000, config.max_connections);
      } else if (key == "server.max_connections_per_ip") {
        s = ReadInt(v, key, 1, 1'000'000, config.max_connections_per_ip);
      } else if (key == "server.store_threads") {
        s = ReadInt(v, key, 1, 64, config.store_threads);
      } else if (key == "server.store_queue") {
        s = ReadInt(v, key, 1, 1'000'000, config.store_queue);
      } else if (key == "engine.partitions") {
        s = ReadInt(v, key, 1, 256, config.partitions);
      } else if (key == "engine.snapshot_every") {
        s = ReadInt(v, key, 100, int64_t{1} << 40, config.snapshot_every);
      } else if (key == "engine.drop_retention_hours") {
        s = ReadInt(v, key, 24, 24 * 366, config.drop_retention_hours);
      } else if (key == "store.data_dir") {
        s = ReadString(v, key, config.data_dir);
      } else if (key == "store.uri") {
        s = ReadString(v, key, config.store);
      } else if (key == "log.level") {
        s = ReadString(v, key, config.log_level);
      } else {
        s = ConfigError(key, "unknown setting");
      }
      if (!s.ok()) return AtLine(s, path, v.source());
    }
  }
  Status valid = config.Validate();
  if (valid.ok()) return valid;
  // Validate() names fields without their table ("listen" for server.listen).
  for (const char* table : {"", "server.", "engine.", "store.", "log."}) {
    if (auto it = set_at.find(std::string(table) + valid.field()); it != set_at.end()) {
      return AtLine(valid, path, it->second);
    }
  }
  return valid;
}

}  // namespace thunder::app
