// thunder: the one binary of Spring Thunder. Subcommands: serve, demo, import, admin.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <vector>

#include "app/config.h"
#include "app/demo_data.h"
#include "app/platform.h"
#include "catalog/csv_import.h"
#include "projections/projector.h"

namespace thunder::app {
namespace {

// Flags shared by every subcommand that opens the data directory.
struct CommonFlags {
  std::string config_file;
  std::string listen;
  std::string data_dir;
  std::string store;
  int io_threads = 0;
  uint32_t max_connections = 0;
  uint32_t max_connections_per_ip = 0;
  uint32_t partitions = 0;

  void AddTo(CLI::App* cmd, bool serving) {
    cmd->add_option("-c,--config", config_file,
                    "TOML configuration file (see docs/configuration.md)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--data-dir", data_dir, "Directory for the store and logs (default: data)");
    cmd->add_option("--store", store,
                    "Store to use: a SQLite path or sqlite:PATH (default: DATA_DIR/thunder.db)");
    if (serving) {
      cmd->add_option("--listen", listen,
                      "Address to serve on, host:port (default: 127.0.0.1:8080)");
      cmd->add_option("--io-threads", io_threads, "HTTP I/O threads (default: 2)")
          ->check(CLI::Range(1, 64));
      cmd->add_option("--max-connections", max_connections,
                      "Open client connections at most (default: 10000)")
          ->check(CLI::Range(1, 1'000'000));
      cmd->add_option("--max-connections-per-ip", max_connections_per_ip,
                      "Open connections from one client IP at most (default: 1000)")
          ->check(CLI::Range(1, 1'000'000));
    }
    cmd->add_option(
           "--partitions", partitions,
           "Flash-sale engine partitions (default: what the data directory has, else one per core)")
        ->check(CLI::Range(1, 256));
  }

  // Defaults, then the file, then the flags.
  Result<Config> Resolve() const {
    Config config;
    if (!config_file.empty()) RETURN_IF_ERROR(LoadConfigFile(Env::Default(), config_file, config));
    if (!listen.empty()) config.listen = listen;
    if (!data_dir.empty()) config.data_dir = data_dir;
    if (!store.empty()) config.store = store;
    if (io_threads > 0) config.io_threads = io_threads;
    if (max_connections > 0) config.max_connections = max_connections;
    if (max_connections_per_ip > 0) config.max_connections_per_ip = max_connections_per_ip;
    if (partitions > 0) config.partitions = partitions;
    RETURN_IF_ERROR(config.Validate());
    return config;
  }
};

int Fail(const Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return 1;
}

void SetLogLevel(const Config& config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
}

std::string UrlFor(const Config& config, uint16_t port) {
  auto listen = config.ListenAddress();
  std::string host = listen.ok() ? listen->first : "127.0.0.1";
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return fmt::format("http://{}:{}/", host, port);
}

// The line announcing an admin token: a fresh one for every demo start (tokens are stored
// hashed and cannot be shown again), the first one for a new data directory, else none.
Result<std::string> AdminTokenLine(TokenService& tokens, bool demo) {
  if (demo) {
    ASSIGN_OR_RETURN(auto issued, tokens.Create(Role::kAdmin, "", "demo admin token"));
    return "Admin token (for this demo): " + issued.token;
  }
  ASSIGN_OR_RETURN(const std::string first, tokens.EnsureFirstAdminToken());
  if (first.empty()) return std::string();
  return "First start: created an admin token. It is shown only this once; keep it:\n  " + first;
}

int Serve(const CommonFlags& flags, bool demo) {
  auto config = flags.Resolve();
  if (!config.ok()) return Fail(config.status());
  SetLogLevel(*config);
  auto platform = Platform::Open(*config);
  if (!platform.ok()) return Fail(platform.status());
  Platform& p = **platform;

  if (demo) {
    auto counts = SeedDemoData(p.catalog());
    if (!counts.ok()) return Fail(counts.status());
    if (counts->belts > 0) {
      std::cout << fmt::format(
          "Seeded the Zhejiang demo: {} belts, {} live-streaming bases, {} hosts, {} factories, "
          "{} products, {} SKUs.\n",
          counts->belts, counts->bases, counts->hosts, counts->factories, counts->products,
          counts->skus);
    } else {
      std::cout << "Demo data already present in " << config->data_dir << "; reusing it.\n";
    }
  }

  p.ShutdownOnSignals();
  if (Status s = p.Start(); !s.ok()) return Fail(s);
  // The token is made only once the server listens: a start that fails (port in use)
  // must not store a first admin token that nobody ever saw.
  auto token_line = AdminTokenLine(p.tokens(), demo);
  if (!token_line.ok()) {
    p.RequestShutdown();
    p.Wait();
    return Fail(token_line.status());
  }
  const std::string url = UrlFor(*config, p.port());
  std::cout << "\nSpring Thunder " << kVersion << " is serving at " << url << "\n";
  if (!token_line->empty()) std::cout << *token_line << "\n";
  std::cout << "Try:  curl -H \"Authorization: Bearer <token>\" " << url << "v1/belts\n"
            << "Stop with Ctrl-C.\n"
            << std::flush;
  p.Wait();
  std::cout << "Stopped.\n";
  return 0;
}

void PrintProgress(size_t done, size_t total, const catalog::ImportReport& report) {
  static const bool tty = ::isatty(STDERR_FILENO) != 0;
  const size_t percent = total == 0 ? 100 : done * 100 / total;
  if (!tty && done != total && done % std::max<size_t>(1, total / 10) != 0) return;
  constexpr size_t kWidth = 30;
  const size_t filled = percent * kWidth / 100;
  std::fprintf(stderr, "%s[%s%s] %3zu%%  %zu/%zu records, %zu errors%s", tty ? "\r" : "",
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(), percent,
               done, total, report.errors.size(), tty && done != total ? "" : "\n");
  std::fflush(stderr);
}

int Import(const CommonFlags& flags, const std::string& what, const std::string& file) {
  auto config = flags.Resolve();
  if (!config.ok()) return Fail(config.status());
  SetLogLevel(*config);
  auto text = Env::Default().ReadFile(file);
  if (!text.ok()) return Fail(text.status());
  auto platform = Platform::Open(*config);
  if (!platform.ok()) return Fail(platform.status());
  const Principal importer{0, Role::kAdmin, ""};
  auto report =
      what == "factories"
          ? catalog::ImportFactories((*platform)->catalog(), importer, *text, PrintProgress)
          : catalog::ImportProducts((*platform)->catalog(), importer, *text, PrintProgress);
  if (!report.ok())
    return Fail(Status(report.status().kind(), report.status().code(),
                       file + ": " + report.status().message()));
  for (const auto& e : report->errors) {
    std::cerr << fmt::format("{}:{}: {}{} [{}]\n", file, e.line,
                             e.status.field().empty() ? "" : e.status.field() + ": ",
                             e.status.message(), e.status.code());
  }
  std::cout << fmt::format(
      "{}: {} records, {} created, {} already present, {} skipped with errors\n", file,
      report->records, report->created, report->unchanged, report->errors.size());
  return report->errors.empty() ? 0 : 2;
}

// The store of an existing data directory; token commands never create an empty one.
Result<std::unique_ptr<Store>> OpenExistingDataDir(const Config& config) {
  auto store = OpenExistingStore(config.StoreSpec());
  if (store.ok() || store.status().kind() != ErrorKind::kNotFound) return store;
  if (!config.store.empty()) {
    return Status::NotFound(store.status().message() +
                            "; point --store at the store a server runs on");
  }
  return Status::NotFound(
      fmt::format("the data directory {} holds no store ({}/thunder.db does not exist); start "
                  "'thunder serve --data-dir {}' once to create it, or name the right --data-dir",
                  config.data_dir, config.data_dir, config.data_dir));
}

// The store the flags name, for the token commands.
Result<std::unique_ptr<Store>> OpenTokenStore(const CommonFlags& flags) {
  ASSIGN_OR_RETURN(const Config config, flags.Resolve());
  return OpenExistingDataDir(config);
}

// "90s", "15m", "12h", "30d" or combinations such as "1d12h".
Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  const auto invalid = Status::InvalidArgument(
      "invalid_duration",
      "--expires-in takes a duration such as 90s, 15m, 12h, 30d or 1d12h, not '" +
          std::string(text) + "'",
      "expires_in");
  std::chrono::seconds total{0};
  size_t i = 0;
  if (text.empty()) return invalid;
  while (i < text.size()) {
    int64_t n = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && n < 1'000'000'000) {
      n = n * 10 + (text[i++] - '0');
    }
    if (i == start || i == text.size()) return invalid;
    switch (text[i++]) {
      case 's':
        total += std::chrono::seconds(n);
        break;
      case 'm':
        total += std::chrono::minutes(n);
        break;
      case 'h':
        total += std::chrono::hours(n);
        break;
      case 'd':
        total += std::chrono::days(n);
        break;
      default:
        return invalid;
    }
  }
  if (total.count() <= 0) return invalid;
  return total;
}

struct TokenRequest {
  std::string role, scope, label, expires_in, expires_at;
};

int CreateToken(const CommonFlags& flags, const TokenRequest& request) {
  const auto role = ParseRole(request.role);
  if (!role) return Fail(Status::InvalidArgument("invalid_role", "unknown role " + request.role));
  const Clock& clock = SystemClock::Instance();
  std::optional<Timestamp> expires_at;
  if (!request.expires_in.empty()) {
    auto duration = ParseDuration(request.expires_in);
    if (!duration.ok()) return Fail(duration.status());
    expires_at = clock.Now() + *duration;
  } else if (!request.expires_at.empty()) {
    expires_at = ParseRfc3339(request.expires_at);
    if (!expires_at) {
      return Fail(Status::InvalidArgument(
          "invalid_time",
          "--expires-at takes an RFC 3339 time such as 2026-12-31T23:59:59Z, not '" +
              request.expires_at + "'"));
    }
  }
  auto store = OpenTokenStore(flags);
  if (!store.ok()) return Fail(store.status());
  TokenService tokens(**store, clock);
  auto issued = tokens.Create(*role, request.scope, request.label, expires_at);
  if (!issued.ok()) return Fail(issued.status());
  std::cerr << "Created " << request.role << " token " << issued->principal.token_id
            << (request.scope.empty() ? "" : " scoped to " + request.scope)
            << (expires_at ? ", expiring at " + FormatRfc3339(*expires_at) : "")
            << ". It is shown only this once:\n";
  std::cout << issued->token << "\n";
  return 0;
}

int ListTokens(const CommonFlags& flags) {
  auto store = OpenTokenStore(flags);
  if (!store.ok()) return Fail(store.status());
  TokenService tokens(**store, SystemClock::Instance());
  auto list = tokens.List();
  if (!list.ok()) return Fail(list.status());
  std::vector<std::array<std::string, 7>> table{
      {"ID", "ROLE", "SCOPE", "LABEL", "CREATED", "EXPIRES", "REVOKED"}};
  for (const TokenInfo& t : *list) {
    table.push_back({std::to_string(t.id), std::string(RoleName(t.role)),
                     t.scope.empty() ? "-" : t.scope, t.label.empty() ? "-" : t.label, t.created_at,
                     t.expires_at.value_or("never"), t.revoked_at.value_or("-")});
  }
  std::array<size_t, 7> width{};
  for (const auto& row : table) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : table) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += c + 1 == row.size() ? row[c] : fmt::format("{:<{}}  ", row[c], width[c]);
    }
    std::cout << line << "\n";
  }
  return 0;
}

int RevokeToken(const CommonFlags& flags, int64_t id) {
  auto store = OpenTokenStore(flags);
  if (!store.ok()) return Fail(store.status());
  TokenService tokens(**store, SystemClock::Instance());
  if (Status s = tokens.Revoke(id); !s.ok()) return Fail(s);
  std::cout << "Revoked token " << id << ". A running server refuses it within a second.\n";
  return 0;
}

// Rebuilds the projections from the engine's state (snapshots plus the log), offline.
int RebuildProjections(const CommonFlags& flags) {
  auto config = flags.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto store = OpenStore(config->StoreSpec());
  if (!store.ok()) return Fail(store.status());
  engine::EngineOptions options;
  options.dir = config->EngineDir();
  options.partitions = config->EffectivePartitions();
  options.run_timers = false;  // the log must not move between the copy and its position
  auto engine = engine::Engine::Open(Env::Default(), SystemClock::Instance(), options);
  if (!engine.ok()) return Fail(engine.status());
  std::mutex mu;
  std::vector<engine::Event> events;
  std::promise<void> done;
  size_t left = (*engine)->partitions();
  (*engine)->SnapshotAll([&](std::vector<engine::Event> part) {
    std::lock_guard lock(mu);
    events.insert(events.end(), part.begin(), part.end());
    if (--left == 0) done.set_value();
  });
  done.get_future().wait();
  const uint64_t as_of = (*engine)->durable_seq();
  projections::Projector projector(**store);
  if (Status s = projector.Rebuild(events, as_of); !s.ok()) return Fail(s);
  auto counts =
      (*store)->Query("SELECT (SELECT COUNT(*) FROM drops), (SELECT COUNT(*) FROM orders)");
  std::cout << fmt::format(
      "Rebuilt the projections from the log up to record {}: {} drops, {} orders.\n", as_of,
      counts.ok() ? AsInt(counts->rows[0][0]) : 0, counts.ok() ? AsInt(counts->rows[0][1]) : 0);
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "Spring Thunder: live-streaming bases, flash-sale drops and C2M factories for a regional "
      "digital-commerce programme.\n\nStart with 'thunder demo' to serve a seeded Zhejiang data "
      "set, or 'thunder serve' for your own data.",
      "thunder"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);

  CommonFlags serve_flags, demo_flags, import_flags, token_flags;

  auto* serve = app.add_subcommand(
      "serve", "Serve the HTTP API. The first start creates an admin token and prints it once.");
  serve_flags.AddTo(serve, true);

  auto* demo = app.add_subcommand(
      "demo",
      "Seed the Zhejiang demo data (when the store is empty) and serve it, printing the "
      "URL and an admin token.");
  demo_flags.AddTo(demo, true);

  auto* import = app.add_subcommand("import", "Import catalog data from CSV files.");
  import->require_subcommand(1);
  std::string import_file;
  auto* import_factories = import->add_subcommand(
      "factories",
      "Import factories. Header: name,belt,city,contact,daily_capacity (belt may be given as "
      "belt_id; daily_capacity like socks:20000;tights:5000).");
  auto* import_products = import->add_subcommand(
      "products",
      "Import products and SKUs, one SKU per line. Header: factory,product,category,description,"
      "sku_code,list_price_fen,colour,size,material (factory may be given as factory_id).");
  for (auto* cmd : {import_factories, import_products}) {
    cmd->add_option("FILE", import_file, "CSV file")->required()->check(CLI::ExistingFile);
    import_flags.AddTo(cmd, false);
  }

  auto* admin = app.add_subcommand("admin", "Administrative tasks.");
  admin->require_subcommand(1);
  auto* token = admin->add_subcommand("token", "Manage API tokens.");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand(
      "create",
      "Create a token and print it once. Roles: admin, factory (--scope FACTORY_ID), "
      "host (--scope BASE_ID), consumer (--scope BUYER_ID), trainer.");
  TokenRequest token_request;
  token_create
      ->add_option("--role", token_request.role, "admin, factory, host, consumer or trainer")
      ->required()
      ->check(CLI::IsMember({"admin", "factory", "host", "consumer", "trainer"}));
  token_create->add_option("--scope", token_request.scope,
                           "The factory, base or buyer id the token is confined to");
  token_create->add_option("--label", token_request.label,
                           "A note to remember what the token is for");
  auto* expires_in = token_create->add_option(
      "--expires-in", token_request.expires_in,
      "Refuse the token after this long: 90s, 15m, 12h, 30d, 1d12h (default: never)");
  token_create
      ->add_option("--expires-at", token_request.expires_at,
                   "Refuse the token from this RFC 3339 time on, e.g. 2026-12-31T23:59:59Z")
      ->excludes(expires_in);
  token_flags.AddTo(token_create, false);

  CommonFlags token_list_flags, token_revoke_flags;
  auto* token_list = token->add_subcommand(
      "list", "List tokens: id, role, scope, label, creation, expiry, revocation (never secrets).");
  token_list_flags.AddTo(token_list, false);
  auto* token_revoke = token->add_subcommand(
      "revoke",
      "Revoke a token by its id (see 'token list'); a running server refuses it within "
      "a second.");
  int64_t revoke_id = 0;
  token_revoke->add_option("ID", revoke_id, "The token's id")
      ->required()
      ->check(CLI::PositiveNumber);
  token_revoke_flags.AddTo(token_revoke, false);

  CommonFlags rebuild_flags;
  auto* rebuild = admin->add_subcommand(
      "rebuild-projections",
      "Rebuild the orders and GMV tables from the flash-sale engine's log. Stop the server first.");
  rebuild_flags.AddTo(rebuild, false);

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) return Serve(serve_flags, false);
  if (demo->parsed()) return Serve(demo_flags, true);
  if (import_factories->parsed()) return Import(import_flags, "factories", import_file);
  if (import_products->parsed()) return Import(import_flags, "products", import_file);
  if (token_create->parsed()) return CreateToken(token_flags, token_request);
  if (token_list->parsed()) return ListTokens(token_list_flags);
  if (token_revoke->parsed()) return RevokeToken(token_revoke_flags, revoke_id);
  if (rebuild->parsed()) return RebuildProjections(rebuild_flags);
  return 0;
}

}  // namespace thunder::app

int main(int argc, char** argv) { return thunder::app::Main(argc, argv); }
