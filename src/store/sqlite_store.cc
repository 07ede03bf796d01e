#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/mutex.h"
#include "store/migrations.h"
#include "store/store.h"

namespace thunder {
namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  const int primary = rc & 0xff;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Status::Conflict("already_exists", msg);
  }
  if (primary == SQLITE_CONSTRAINT) return Status::Conflict("constraint_violated", msg);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Status(ErrorKind::kUnavailable, "store_busy", msg);
  }
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return Status(ErrorKind::kCorruption, "store_corrupt", msg);
  }
  return Status::IoError(msg);
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    statements_.clear();
    sqlite3_close_v2(db_);
  }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  using Store::Query;
  Result<QueryResult> Query(std::string_view sql, std::span<const SqlValue> params) override {
    RecursiveLock lock(mu_);
    return QueryLocked(sql, params);
  }

  Status InTransaction(const std::function<Status()>& fn) override {
    RecursiveLock lock(mu_);
    if (in_transaction_) return fn();  // nested: join the outer transaction
    RETURN_IF_ERROR(QueryLocked("BEGIN IMMEDIATE", {}).status());
    in_transaction_ = true;
    Status s = fn();
    in_transaction_ = false;
    if (!s.ok()) {
      (void)QueryLocked("ROLLBACK", {});
      return s;
    }
    auto commit = QueryLocked("COMMIT", {});
    if (!commit.ok()) {
      (void)QueryLocked("ROLLBACK", {});
      return commit.status();
    }
    return Status::Ok();
  }

  std::string_view Dialect() const override { return "sqlite"; }

 private:
  // Prepared statements are kept by their SQL text: parsing costs more than running the
  // short statements the platform uses. Bounded, as generated SQL comes in finite shapes.
  Result<sqlite3_stmt*> Prepare(std::string_view sql) REQUIRES(mu_) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) return it->second.get();
    if (statements_.size() >= kMaxCachedStatements) statements_.clear();
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      return SqliteError(db_, rc, "prepare");
    }
    if (raw == nullptr) return Status::Internal("empty statement");
    return statements_.emplace(std::string(sql), StatementPtr(raw)).first->second.get();
  }

  Result<QueryResult> QueryLocked(std::string_view sql, std::span<const SqlValue> params)
      REQUIRES(mu_) {
    ASSIGN_OR_RETURN(sqlite3_stmt * raw, Prepare(sql));
    // Leave the cached statement reset and unbound whatever happens below.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{raw};
    int rc = SQLITE_OK;
    if (static_cast<size_t>(sqlite3_bind_parameter_count(raw)) != params.size()) {
      return Status::Internal("statement expects " +
                              std::to_string(sqlite3_bind_parameter_count(raw)) +
                              " parameters, got " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      const SqlValue& p = params[i];
      if (std::holds_alternative<int64_t>(p)) {
        rc = sqlite3_bind_int64(raw, index, std::get<int64_t>(p));
      } else if (std::holds_alternative<std::string>(p)) {
        const std::string& text = std::get<std::string>(p);
        rc = sqlite3_bind_text(raw, index, text.data(), static_cast<int>(text.size()),
                               SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(raw, index);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "bind");
    }
    QueryResult result;
    const int ncols = sqlite3_column_count(raw);
    for (int c = 0; c < ncols; ++c) result.columns.emplace_back(sqlite3_column_name(raw, c));
    for (;;) {
      rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, sqlite3_extended_errcode(db_), "step");
      std::vector<SqlValue> row;
      row.reserve(static_cast<size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        switch (sqlite3_column_type(raw, c)) {
          case SQLITE_INTEGER:
            row.emplace_back(int64_t{sqlite3_column_int64(raw, c)});
            break;
          case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
            row.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(raw, c))));
          }
        }
      }
      result.rows.push_back(std::move(row));
    }
    return result;
  }

  struct FinalizeStatement {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using StatementPtr = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;
  static constexpr size_t kMaxCachedStatements = 256;

  RecursiveMutex mu_;
  sqlite3* db_;
  std::unordered_map<std::string, StatementPtr> statements_ GUARDED_BY(mu_);
  bool in_transaction_ GUARDED_BY(mu_) = false;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
                    (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags,
                                 options.vfs.empty() ? nullptr : options.vfs.c_str());
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "open " + path);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteStore>(db);
  // WAL: readers do not block the writer. FULL: the WAL is synced at every commit, so a
  // write the server answered survives a power cut, not only a process crash (NORMAL
  // syncs only at checkpoints). store_test's power-cut test fails with NORMAL.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    auto r = store->Query(pragma);
    if (!r.ok()) return r.status();
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  return OpenSqliteStore(path, SqliteOptions{});
}

namespace {

Result<std::unique_ptr<Store>> OpenAndMigrate(const std::string& spec, bool create_if_missing) {
  if (spec.starts_with("postgres://") || spec.starts_with("postgresql://")) {
    return Status::InvalidArgument(
        "store_unavailable",
        "the PostgreSQL back end is not part of this build yet; use a SQLite path", "store");
  }
  const std::string path = spec.starts_with("sqlite:") ? spec.substr(7) : spec;
  if (path.empty()) return Status::InvalidArgument("invalid_store", "empty store path", "store");
  std::error_code ec;
  if (!create_if_missing && !std::filesystem::exists(path, ec)) {
    return Status::NotFound("there is no store at " + path);
  }
  ASSIGN_OR_RETURN(auto store, OpenSqliteStore(path, SqliteOptions{create_if_missing, ""}));
  RETURN_IF_ERROR(ApplyMigrations(*store));
  return store;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const std::string& spec) {
  return OpenAndMigrate(spec, /*create_if_missing=*/true);
}

Result<std::unique_ptr<Store>> OpenExistingStore(const std::string& spec) {
  return OpenAndMigrate(spec, /*create_if_missing=*/false);
}

int64_t AsInt(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  return 0;
}

std::string AsText(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return {};
}

bool IsNull(const SqlValue& v) { return std::holds_alternative<std::monostate>(v); }

}  // namespace thunder
