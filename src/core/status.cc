#include "core/status.h"

namespace thunder {

int HttpStatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk:
      return 200;
    case ErrorKind::kInvalidArgument:
      return 400;
    case ErrorKind::kUnauthenticated:
      return 401;
    case ErrorKind::kPermissionDenied:
      return 403;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kMethodNotAllowed:
      return 405;
    case ErrorKind::kConflict:
      return 409;
    case ErrorKind::kPayloadTooLarge:
      return 413;
    case ErrorKind::kRateLimited:
      return 429;
    case ErrorKind::kHeaderTooLarge:
      return 431;
    case ErrorKind::kUnavailable:
      return 503;
    case ErrorKind::kIoError:
    case ErrorKind::kCorruption:
    case ErrorKind::kInternal:
      return 500;
  }
  return 500;
}

const char* DefaultCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk:
      return "ok";
    case ErrorKind::kInvalidArgument:
      return "invalid_argument";
    case ErrorKind::kUnauthenticated:
      return "unauthenticated";
    case ErrorKind::kPermissionDenied:
      return "forbidden";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorKind::kRateLimited:
      return "rate_limited";
    case ErrorKind::kHeaderTooLarge:
      return "header_too_large";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kIoError:
      return "io_error";
    case ErrorKind::kCorruption:
      return "corruption";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out = code_ + ": " + message_;
  if (!field_.empty()) out += " (field " + field_ + ")";
  return out;
}

}  // namespace thunder
