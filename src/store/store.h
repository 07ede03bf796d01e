// Store: the relational store behind one interface. SQLite (embedded, the default) is
// implemented here; a PostgreSQL back end implements the same interface. Every statement
// is parameterised: SQL text holds `?` placeholders and values travel separately.
// Implementations are safe to call from many threads; InTransaction() runs `fn` with the
// store held by the calling thread, and calls made from `fn` join that transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace thunder {

// NULL, INTEGER or TEXT: the only column types the schema uses.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs one statement; rows are returned for SELECT and for `RETURNING`.
  // A violated UNIQUE constraint is kConflict with code "already_exists".
  virtual Result<QueryResult> Query(std::string_view sql, std::span<const SqlValue> params) = 0;
  Result<QueryResult> Query(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    return Query(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }
  Status Exec(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    auto r = Query(sql, std::span<const SqlValue>(params.begin(), params.size()));
    return r.ok() ? Status::Ok() : r.status();
  }

  // Commits when `fn` returns OK, rolls back otherwise; returns fn's status.
  virtual Status InTransaction(const std::function<Status()>& fn) = 0;

  // "sqlite" or "postgres": lets migrations pick their dialect.
  virtual std::string_view Dialect() const = 0;
};

// Opens the store that `spec` names: "sqlite:PATH", a plain file path (SQLite), or
// "postgres://..." (not available in this build: a clear error). Applies migrations.
Result<std::unique_ptr<Store>> OpenStore(const std::string& spec);

// Like OpenStore, but refuses with kNotFound (naming the path) when the SQLite file does
// not exist yet, instead of creating an empty store.
Result<std::unique_ptr<Store>> OpenExistingStore(const std::string& spec);

// The SQLite store in WAL mode at `path` (created when missing), without migrations.
// Every committed write is synced (synchronous=FULL) before the commit returns.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

struct SqliteOptions {
  bool create_if_missing = true;
  // The registered SQLite VFS to open the files through; empty: SQLite's default. Tests
  // pass a fault-injecting one (store/fault_vfs.h).
  std::string vfs;
};
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options);

// Helpers for reading a QueryResult cell.
int64_t AsInt(const SqlValue& v);
std::string AsText(const SqlValue& v);
bool IsNull(const SqlValue& v);

}  // namespace thunder
