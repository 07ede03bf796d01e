// Platform: one running Spring Thunder, wired from a Config: the store, tokens, catalog,
// router, metrics and HTTP server. `thunder serve`, `thunder demo` and the API tests all
// build one. Open() prepares everything; Start() begins serving. Not copyable; methods may
// be called from any thread, and destruction shuts the server down gracefully.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "auth/token_service.h"
#include "catalog/catalog_service.h"
#include "core/clock.h"
#include "engine/engine.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "projections/projector.h"
#include "store/store.h"

namespace thunder::app {

inline constexpr const char* kVersion = "0.1.0";

class Platform {
 public:
  // Creates the data directory, opens and migrates the store, registers every route.
  static Result<std::unique_ptr<Platform>> Open(const Config& config, Env& env = Env::Default(),
                                                const Clock& clock = SystemClock::Instance());
  ~Platform();

  Status Start();
  uint16_t port() const { return server_->port(); }
  void ShutdownOnSignals() { server_->ShutdownOnSignals(); }
  void RequestShutdown() { server_->RequestShutdown(); }
  void Wait() { server_->Wait(); }

  Store& store() { return *store_; }
  TokenService& tokens() { return *tokens_; }
  catalog::CatalogService& catalog() { return *catalog_; }
  engine::Engine& engine() { return *engine_; }
  const http::Router& router() const { return *router_; }

 private:
  Platform() = default;

  std::unique_ptr<Store> store_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<catalog::CatalogService> catalog_;
  std::unique_ptr<projections::Projector> projector_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<http::Metrics> metrics_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace thunder::app
