#include "http/router.h"

#include <charconv>
#include <future>

namespace thunder::http {

namespace {

std::string_view NextSegment(std::string_view& rest) {
  const size_t slash = rest.find('/');
  const std::string_view seg = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  return seg;
}

}  // namespace

Result<int64_t> ParsePageLimit(std::string_view value) {
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc{} || end != value.data() + value.size() || n < 1 || n > kMaxPageLimit) {
    return Status::InvalidArgument(
        "out_of_range", "limit must be an integer from 1 to " + std::to_string(kMaxPageLimit),
        "limit");
  }
  return n;
}

bool IsPlaceholder(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

std::vector<std::string_view> PatternSegments(std::string_view pattern) {
  std::vector<std::string_view> out;
  if (!pattern.empty() && pattern[0] == '/') pattern.remove_prefix(1);
  while (!pattern.empty()) out.push_back(NextSegment(pattern));
  return out;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::string>& params) {
  params.clear();
  if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') return false;
  // Patterns never end in '/', so "/v1/belts/" is not "/v1/belts".
  if (path.size() > 1 && path.back() == '/') return false;
  pattern.remove_prefix(1);
  path.remove_prefix(1);
  for (;;) {
    const bool pattern_done = pattern.empty();
    const bool path_done = path.empty();
    if (pattern_done || path_done) return pattern_done && path_done;
    const std::string_view want = NextSegment(pattern);
    const std::string_view got = NextSegment(path);
    if (IsPlaceholder(want)) {
      if (got.empty()) return false;
      params.emplace_back(got);
    } else if (want != got) {
      return false;
    }
  }
}

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

void Router::DispatchAsync(const Request& request, std::function<void(Dispatched)> done,
                           WorkerPool* workers) const {
  // HEAD is GET without the body; the server leaves the body out when it writes the answer.
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  std::vector<std::string> params;
  std::string allowed;
  for (const Route& route : routes_) {
    if (!MatchPattern(route.pattern, request.path, params)) continue;
    if (route.method != method) {
      if (!allowed.empty()) allowed += ", ";
      allowed += route.method;
      continue;
    }
    // The context must outlive an asynchronous handler: it lives until `done` runs.
    auto ctx =
        std::make_shared<RouteContext>(RouteContext{request, std::move(params), std::nullopt});
    bool ask_the_store = false;  // the token is not cached: only the store can tell
    if (route.authenticated) {
      std::optional<Result<Principal>> who;
      if (cached_authenticate_) {
        who = cached_authenticate_(request.authorization);
      } else {
        who = authenticate_(request.authorization);
      }
      if (!who) {
        ask_the_store = true;
      } else if (!who->ok()) {
        return done({ErrorResponse(who->status()), route.pattern});
      } else {
        ctx->principal = std::move(**who);
      }
    }
    if (!route.blocking && !ask_the_store)
      return RunHandler(route, std::move(ctx), std::move(done));

    auto answer = std::make_shared<std::function<void(Dispatched)>>(std::move(done));
    std::function<void()> work = [this, &route, ctx, answer, ask_the_store] {
      if (ask_the_store) {
        auto who = authenticate_(ctx->request.authorization);
        if (!who.ok()) return (*answer)({ErrorResponse(who.status()), route.pattern});
        ctx->principal = std::move(*who);
      }
      RunHandler(route, ctx, std::move(*answer));
    };
    if (workers == nullptr) return work();
    if (!workers->TrySubmit(std::move(work))) {
      Response busy = ErrorResponse(Status(ErrorKind::kUnavailable, "server_busy",
                                           "too many requests are waiting for the store; retry "
                                           "in a moment"));
      busy.headers.emplace_back("Retry-After", "1");
      (*answer)({std::move(busy), route.pattern});
    }
    return;
  }
  if (!allowed.empty()) {
    Response r = ErrorResponse(Status(ErrorKind::kMethodNotAllowed, "method_not_allowed",
                                      request.method + " is not allowed here; use " + allowed));
    r.headers.emplace_back("Allow", allowed);
    return done({std::move(r), "unmatched"});
  }
  done({ErrorResponse(Status(ErrorKind::kNotFound, "route_not_found",
                             "no route for " + request.method + " " + request.path)),
        "unmatched"});
}

void Router::RunHandler(const Route& route, std::shared_ptr<RouteContext> ctx,
                        std::function<void(Dispatched)> done) {
  if (route.async_handler) {
    const RouteContext& context = *ctx;
    route.async_handler(
        context, [ctx = std::move(ctx), label = route.pattern, done = std::move(done)](Response r) {
          done({std::move(r), label});
        });
    return;
  }
  done({route.handler(*ctx), route.pattern});
}

Router::Dispatched Router::Dispatch(const Request& request) const {
  std::promise<Dispatched> answer;
  DispatchAsync(request, [&answer](Dispatched d) { answer.set_value(std::move(d)); });
  return answer.get_future().get();
}

}  // namespace thunder::http
