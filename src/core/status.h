// Status and Result<T>: expected failures as values.
// A Status is a plain value (copyable, thread-compatible). ErrorKind decides the HTTP
// status through the one table in HttpStatusFor(); `code` is the snake_case word clients
// see, `field` names the input that was wrong, when there is one.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace thunder {

enum class ErrorKind {
  kOk,
  kInvalidArgument,   // 400
  kUnauthenticated,   // 401
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kConflict,          // 409
  kPayloadTooLarge,   // 413
  kHeaderTooLarge,    // 431
  kRateLimited,       // 429
  kIoError,           // 500
  kCorruption,        // 500
  kInternal,          // 500
  kUnavailable,       // 503
};

// The one mapping from error kinds to HTTP statuses.
int HttpStatusFor(ErrorKind kind);
// "invalid_argument", "not_found", ...: the default code of a kind.
const char* DefaultCodeFor(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string code, std::string message, std::string field = {})
      : kind_(kind),
        code_(std::move(code)),
        message_(std::move(message)),
        field_(std::move(field)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string code, std::string message, std::string field = {}) {
    return {ErrorKind::kInvalidArgument, std::move(code), std::move(message), std::move(field)};
  }
  static Status NotFound(std::string message) {
    return {ErrorKind::kNotFound, "not_found", std::move(message)};
  }
  static Status Conflict(std::string code, std::string message, std::string field = {}) {
    return {ErrorKind::kConflict, std::move(code), std::move(message), std::move(field)};
  }
  static Status Unauthenticated(std::string message) {
    return {ErrorKind::kUnauthenticated, "unauthenticated", std::move(message)};
  }
  static Status PermissionDenied(std::string message) {
    return {ErrorKind::kPermissionDenied, "forbidden", std::move(message)};
  }
  static Status IoError(std::string message) {
    return {ErrorKind::kIoError, "io_error", std::move(message)};
  }
  static Status Internal(std::string message) {
    return {ErrorKind::kInternal, "internal", std::move(message)};
  }

  bool ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  int http_status() const { return HttpStatusFor(kind_); }
  std::string ToString() const;

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  std::string code_;
  std::string message_;
  std::string field_;
};

// Holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace thunder

#define THUNDER_CONCAT_INNER(a, b) a##b
#define THUNDER_CONCAT(a, b) THUNDER_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                  \
    ::thunder::Status tmp = (expr);     \
    if (!tmp.ok()) return tmp;          \
  } while (0)

// __COUNTER__ keeps the temporaries distinct when one macro nests inside another's lambda.
#define RETURN_IF_ERROR(expr) RETURN_IF_ERROR_IMPL(THUNDER_CONCAT(status_macro_, __COUNTER__), expr)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(THUNDER_CONCAT(result_macro_, __COUNTER__), lhs, expr)
