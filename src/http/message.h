// Request and Response as the router and handlers see them: plain values with no Beast in
// sight, so that handlers compile fast and tests can call them directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/principal.h"
#include "core/status.h"

namespace thunder::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string, not percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded
  std::string authorization;
  std::string content_type;
  std::string body;
  // The client's X-Request-Id when it is sane, else one the server made up. Every
  // response carries it back, and the server's log line for the request names it.
  std::string request_id;
  // The Idempotency-Key header, when sent: the same as a body's "idempotency_key".
  std::optional<std::string> idempotency_key;

  // The first value of a query parameter, if present.
  std::optional<std::string_view> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, std::string body) {
    return Response{status, "application/json", std::move(body), {}};
  }
};

// {"error": {"code": ..., "message": ..., "field": ...}} with the status's HTTP code.
Response ErrorResponse(const Status& status);

// Splits "a=1&b=x%20y" into decoded pairs; kInvalidArgument on a bad escape, on decoded
// bytes that are not UTF-8, or on a key given twice.
Result<std::vector<std::pair<std::string, std::string>>> ParseQueryString(std::string_view qs);

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace thunder::http
