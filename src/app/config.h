// Configuration of a thunder process: defaults, then a TOML file, then command-line flags.
// A plain value; validated once by Validate() before anything starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/env.h"
#include "core/status.h"

namespace thunder::app {

struct Config {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::string data_dir = "data";
  std::string store;  // empty: sqlite:<data_dir>/thunder.db
  int io_threads = 2;
  uint32_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 1024 * 1024;
  int64_t read_timeout_ms = 15'000;
  int64_t shutdown_grace_ms = 10'000;
  // Open client connections in all and from one IP; over either, a new one is closed at
  // once (a few more are kept for /healthz and /metrics, see docs/configuration.md).
  uint32_t max_connections = 10'000;
  uint32_t max_connections_per_ip = 1'000;
  // Threads that run the requests which wait on the store, and how many such requests
  // may queue for them before the answer is 503.
  int store_threads = 2;
  uint32_t store_queue = 1'024;
  std::string log_level = "info";
  // Engine partitions; 0 means one per core. Fixed for a data directory once it has a log.
  uint32_t partitions = 0;
  uint64_t snapshot_every = 100'000;      // engine events per partition between snapshots
  int64_t drop_retention_hours = 24 * 7;  // an ended drop stays in the engine's memory this long

  // The engine's partition count: the configured one, else the one the data directory's
  // log was written with, else one per core.
  uint32_t EffectivePartitions(Env& env = Env::Default()) const;
  std::string EngineDir() const { return data_dir + "/engine"; }

  // The store spec with the default filled in.
  std::string StoreSpec() const;
  // Splits `listen`; an error names the field.
  Result<std::pair<std::string, uint16_t>> ListenAddress() const;
  Status Validate() const;
};

// Reads the [server], [engine], [store] and [log] tables of a TOML file over `config`.
// Syntax errors, unknown keys, wrong types and values out of range are errors that name
// the file, the line and (but for syntax errors) the key.
Status LoadConfigFile(Env& env, const std::string& path, Config& config);

}  // namespace thunder::app
