#include "app/platform.h"

#include "catalog/catalog_routes.h"
#include "http/system_routes.h"
#include "live/drop_routes.h"

namespace thunder::app {

Result<std::unique_ptr<Platform>> Platform::Open(const Config& config, Env& env,
                                                 const Clock& clock) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(env.CreateDirs(config.data_dir));
  std::unique_ptr<Platform> p(new Platform());
  ASSIGN_OR_RETURN(p->store_, OpenStore(config.StoreSpec()));
  p->tokens_ = std::make_unique<TokenService>(*p->store_, clock);
  // Cached tokens then stay on the I/O threads, and a revocation still lands within a second.
  p->tokens_->StartRevocationSweeps(std::chrono::milliseconds(250));
  p->catalog_ = std::make_unique<catalog::CatalogService>(*p->store_, clock);
  engine::EngineOptions engine_options;
  engine_options.dir = config.EngineDir();
  engine_options.partitions = config.EffectivePartitions(env);
  engine_options.snapshot_every = config.snapshot_every;
  engine_options.archive_after = std::chrono::hours(config.drop_retention_hours);
  p->projector_ = std::make_unique<projections::Projector>(*p->store_);
  ASSIGN_OR_RETURN(engine_options.sink_from_seq, p->projector_->StoredSeq());
  ASSIGN_OR_RETURN(p->engine_,
                   engine::Engine::Open(env, clock, engine_options, p->projector_->Sink()));
  engine::Engine* engine = p->engine_.get();
  p->projector_->Start([engine](uint64_t seq) { engine->ConsumerCaughtUp(seq); });
  p->metrics_ = std::make_unique<http::Metrics>();
  TokenService* tokens = p->tokens_.get();
  // A cached token is checked on the I/O thread; any other goes to the store on the
  // server's worker pool.
  p->router_ = std::make_unique<http::Router>(
      [tokens](std::string_view header) { return tokens->Authenticate(header); },
      [tokens](std::string_view header) { return tokens->AuthenticateFromCache(header); });
  projections::Projector* projector = p->projector_.get();
  http::AddSystemRoutes(*p->router_, *p->metrics_, kVersion, [engine, projector] {
    if (Status s = engine->health(); !s.ok()) return s;
    return projector->health();
  });
  // The engine's own counters, read at scrape time.
  engine::Engine* e = p->engine_.get();
  auto stat = [e](auto field) {
    return [e, field] { return static_cast<double>(field(e->stats())); };
  };
  p->metrics_->AddCounter("thunder_engine_commands_total", "Commands the engine partitions ran",
                          stat([](const engine::EngineStats& s) { return s.commands; }));
  p->metrics_->AddCounter("thunder_engine_rejections_total",
                          "Commands refused (sold out, over the limit, bad state...)",
                          stat([](const engine::EngineStats& s) { return s.rejections; }));
  p->metrics_->AddCounter("thunder_engine_snapshots_total", "Partition snapshots written",
                          stat([](const engine::EngineStats& s) { return s.snapshots; }));
  p->metrics_->AddCounter("thunder_wal_records_total", "Events appended to the write-ahead log",
                          stat([](const engine::EngineStats& s) { return s.wal.records; }));
  p->metrics_->AddCounter("thunder_wal_syncs_total",
                          "Group commits: batches written and fdatasync'ed",
                          stat([](const engine::EngineStats& s) { return s.wal.batches; }));
  p->metrics_->AddGauge("thunder_engine_healthy",
                        "1 while the log accepts writes, 0 after a failure",
                        [e] { return e->health().ok() ? 1.0 : 0.0; });
  p->metrics_->AddGauge("thunder_projector_healthy",
                        "1 while the projections follow the log, 0 once they stopped",
                        [projector] { return projector->health().ok() ? 1.0 : 0.0; });
  p->metrics_->AddGauge("thunder_projector_queued_events",
                        "Durable events waiting to be written into the store's projections",
                        [projector] { return static_cast<double>(projector->stats().queued); });
  p->metrics_->AddGauge("thunder_projector_stored_seq", "The last log record the projections hold",
                        [projector] { return static_cast<double>(projector->stats().stored_seq); });
  p->metrics_->AddCounter("thunder_projector_retries_total",
                          "Projection batches tried again after the store was busy",
                          [projector] { return static_cast<double>(projector->stats().retries); });
  catalog::AddCatalogRoutes(*p->router_, *p->catalog_);
  // Made once per data directory; the engine holds the directory's lock by now.
  ASSIGN_OR_RETURN(const live::PublicIds public_ids,
                   live::LoadOrCreatePublicIds(env, config.data_dir));
  live::AddDropRoutes(*p->router_, *p->engine_, *p->store_, public_ids);

  ASSIGN_OR_RETURN(const auto listen, config.ListenAddress());
  http::ServerOptions options;
  options.address = listen.first;
  options.port = listen.second;
  options.io_threads = config.io_threads;
  options.max_header_bytes = config.max_header_bytes;
  options.max_body_bytes = config.max_body_bytes;
  options.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
  options.shutdown_grace = std::chrono::milliseconds(config.shutdown_grace_ms);
  options.max_connections = config.max_connections;
  options.max_connections_per_ip = config.max_connections_per_ip;
  options.blocking_threads = config.store_threads;
  options.max_blocking_queue = config.store_queue;
  p->server_ = std::make_unique<http::Server>(options, *p->router_, *p->metrics_);
  return p;
}

Platform::~Platform() {
  // The server first, so no request is in flight: its worker pool too, whose threads may
  // still be running a handler that calls the engine (ThreadSanitizer caught one posting
  // to a partition being destroyed). Then the projector, while the engine it reports
  // progress to still exists; events the engine hands over after that stay in the log and
  // are projected at the next start. Then the engine, whose last replies go to an I/O
  // context that no longer runs them.
  if (server_) {
    server_->RequestShutdown();
    server_->Wait();
    server_.reset();
  }
  if (projector_) projector_->Stop();
  engine_.reset();
  projector_.reset();
}

Status Platform::Start() { return server_->Start(); }

}  // namespace thunder::app
