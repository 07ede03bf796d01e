// Router: the table of every route the server answers, used both to dispatch requests and
// to describe the API (/openapi.json), so the two cannot drift apart. Routes are added at
// start-up; after that the Router is read-only and Dispatch() is safe from many threads.
// Work that may block on the store (a route marked `blocking`, a token the authenticator
// has not cached) runs on the WorkerPool that DispatchAsync() is given, never on the
// caller's thread, which is an I/O thread that carries purchases.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "http/message.h"
#include "http/worker_pool.h"

namespace thunder::http {

// The largest ?limit= of any list route, and the one a list without ?limit= gets; the
// OpenAPI document states both.
inline constexpr int64_t kMaxPageLimit = 200;
inline constexpr int64_t kDefaultPageLimit = 50;
// A ?limit= value: an integer from 1 to kMaxPageLimit, else 400 out_of_range.
Result<int64_t> ParsePageLimit(std::string_view value);

struct RouteContext {
  const Request& request;
  std::vector<std::string> path_params;  // values of the {placeholders}, in order
  std::optional<Principal> principal;    // set on authenticated routes
};

using Handler = std::function<Response(const RouteContext&)>;
// Answers later: calls `respond` exactly once, from any thread. The request and context
// stay alive until then.
using Responder = std::function<void(Response)>;
using AsyncHandler = std::function<void(const RouteContext&, Responder respond)>;

struct RouteDoc {
  std::string summary;
  std::string tag;
  int success_status = 200;
  std::string request_schema;             // a JSON Schema as JSON text, or empty
  std::string response_schema;            // likewise
  std::vector<std::string> query_params;  // names accepted in the query string
};

struct Route {
  std::string method;   // "GET", "POST", "PATCH", ...
  std::string pattern;  // "/v1/belts/{id}"
  bool authenticated = true;
  RouteDoc doc;
  Handler handler;             // either this...
  AsyncHandler async_handler;  // ...or this
  // True when the handler may wait on the store or the disk: it then runs on the worker
  // pool. An async handler marked so is called on a worker; its `respond` may come later.
  bool blocking = false;
};

// Checks an Authorization header and returns who is calling. May query the store.
using Authenticator = std::function<Result<Principal>(std::string_view authorization)>;
// Answers from memory alone when it can: who is calling, or a refusal. std::nullopt means
// only the Authenticator can tell, and it then runs on the worker pool.
using CachedAuthenticator =
    std::function<std::optional<Result<Principal>>(std::string_view authorization)>;

class Router {
 public:
  // Without `cached`, `authenticate` is taken to be cheap and runs on the caller's thread.
  explicit Router(Authenticator authenticate, CachedAuthenticator cached = nullptr)
      : authenticate_(std::move(authenticate)), cached_authenticate_(std::move(cached)) {}

  void Add(Route route);

  struct Dispatched {
    Response response;
    std::string route_label;  // the matched pattern, or "unmatched": a metrics label
  };
  // Calls `done` exactly once: at once for synchronous routes and misses, later (from
  // any thread) for asynchronous and blocking ones. `request` must stay alive until then.
  // Blocking work goes to `workers`; when its queue is full the answer is 503
  // server_busy. With no `workers`, blocking work runs on the calling thread.
  void DispatchAsync(const Request& request, std::function<void(Dispatched)> done,
                     WorkerPool* workers = nullptr) const;
  // Waits for the answer, running any blocking work on this thread; for tests and tools.
  Dispatched Dispatch(const Request& request) const;

  std::span<const Route> routes() const { return routes_; }

  // An OpenAPI 3.0 document describing every route (written in openapi.cc, which says
  // how route schemas become named components).
  std::string OpenApiJson(std::string_view title, std::string_view version) const;

 private:
  static void RunHandler(const Route& route, std::shared_ptr<RouteContext> ctx,
                         std::function<void(Dispatched)> done);

  Authenticator authenticate_;
  CachedAuthenticator cached_authenticate_;
  std::vector<Route> routes_;
};

// "{id}": a segment of a pattern that takes a value.
bool IsPlaceholder(std::string_view segment);
// "/v1/drops/{id}" -> {"v1", "drops", "{id}"}.
std::vector<std::string_view> PatternSegments(std::string_view pattern);

// Matches `path` against `pattern`; fills `params` with the {placeholder} values.
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::string>& params);

}  // namespace thunder::http
