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
  std::string log_level = "info";
  // Engine partitions; 0 means one per core. Fixed for a data directory once it has a log.
  uint32_t partitions = 0;
  uint64_t snapshot_every = 100'000;  // engine events per partition between snapshots

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

// Reads the [server], [store] and [log] tables of a TOML file over `config`. Unknown keys
// and wrong types are errors that name the key and line.
Status LoadConfigFile(Env& env, const std::string& path, Config& config);

}  // namespace thunder::app
