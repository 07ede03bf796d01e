// Bearer tokens. A token is "st_" followed by 64 hex digits of randomness; only its
// SHA-256 is stored, so a leaked database does not leak working tokens. A token may carry
// an expiry (checked on every request against the Clock) and may be revoked; a revocation
// made by any process sharing the store is honoured within kRevalidateAfter: a cached token
// is trusted while a sweep of the store's revocations ran that recently (one query for all
// tokens, StartRevocationSweeps), else it is checked against the store again. Thread-safe
// as far as the Store it is given is; the Store and Clock must outlive the service.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "auth/principal.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/status.h"
#include "store/store.h"

namespace thunder {

struct IssuedToken {
  std::string token;  // shown once, never stored
  Principal principal;
};

// What `thunder admin token list` shows: everything about a token except its secret.
struct TokenInfo {
  int64_t id = 0;
  Role role = Role::kConsumer;
  std::string scope;
  std::string label;
  std::string created_at;                 // RFC 3339
  std::optional<std::string> expires_at;  // RFC 3339; nullopt: never
  std::optional<std::string> revoked_at;  // RFC 3339; nullopt: not revoked
};

class TokenService {
 public:
  // A cached token is checked against the store again once it is this old, unless a
  // revocation sweep ran more recently than that, so that a revocation made elsewhere (e.g.
  // by `thunder admin token revoke`) takes effect.
  static constexpr std::chrono::milliseconds kRevalidateAfter{1000};

  TokenService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  ~TokenService();  // stops the sweeps
  TokenService(const TokenService&) = delete;
  TokenService& operator=(const TokenService&) = delete;

  // Drops from the cache every token revoked since shortly before the previous sweep, and
  // notes when this sweep started.
  Status SweepRevocations();
  // Sweeps every `every` on a thread of its own (thunder-tokens) until destruction; with
  // `every` well under kRevalidateAfter, cached tokens never wait on the store.
  void StartRevocationSweeps(std::chrono::milliseconds every);

  // Creates a token. Factory and host tokens need the id of an existing factory or base;
  // consumer tokens a buyer id; admin and trainer tokens take no scope. `expires_at`, when
  // given, must lie in the future.
  Result<IssuedToken> Create(Role role, std::string scope, std::string label,
                             std::optional<Timestamp> expires_at = std::nullopt);

  // Resolves an "Authorization" header value ("Bearer st_..."); kUnauthenticated for a
  // missing, malformed, unknown, expired or revoked token. May query the store.
  Result<Principal> Authenticate(std::string_view authorization_header) const;

  // Like Authenticate, but never touches the store: nullopt means the answer is not in
  // the cache (or is due for a check against the store) and Authenticate must be called.
  std::optional<Result<Principal>> AuthenticateFromCache(
      std::string_view authorization_header) const;

  // Every token, oldest first, without secrets or hashes.
  Result<std::vector<TokenInfo>> List() const;

  // Revokes token `id`: kNotFound when there is none. Revoking twice is not an error; the
  // first revocation time is kept.
  Status Revoke(int64_t id);

  // On a store with no admin token yet, creates one and returns it; otherwise returns an
  // empty string. This is how the first start prints the admin token exactly once.
  Result<std::string> EnsureFirstAdminToken();

 private:
  struct CachedToken {
    Principal principal;
    std::optional<Timestamp> expires_at;
    Timestamp checked_at;  // when the store last confirmed the token
  };

  // The token part of a well-formed header, or the reason it is not one.
  static Result<std::string_view> TokenFromHeader(std::string_view header);
  // The cached answer for `token`; nullopt when absent or due for a check.
  std::optional<Result<Principal>> FromCache(std::string_view token) const;
  Status RefuseIfExpired(const std::optional<Timestamp>& expires_at) const;

  Store& store_;
  const Clock& clock_;
  // Tokens seen before, so that most requests cost no hashing and no store query.
  mutable SharedMutex cache_mu_;
  mutable std::unordered_map<std::string, CachedToken> cache_ GUARDED_BY(cache_mu_);
  // When the last sweep started (nullopt: none yet); revocations since shortly before it
  // are the next sweep's query.
  std::optional<Timestamp> swept_at_ GUARDED_BY(cache_mu_);

  Mutex sweeper_mu_;
  CondVar sweeper_wake_;
  bool sweeper_stop_ GUARDED_BY(sweeper_mu_) = false;
  std::thread sweeper_;
};

// Lower-case hex SHA-256 of `text`.
std::string Sha256Hex(std::string_view text);

}  // namespace thunder
