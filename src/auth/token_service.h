// Bearer tokens. A token is "st_" followed by 64 hex digits of randomness; only its
// SHA-256 is stored, so a leaked database does not leak working tokens. Thread-safe as far
// as the Store it is given is.
#pragma once

#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/principal.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace thunder {

struct IssuedToken {
  std::string token;  // shown once, never stored
  Principal principal;
};

class TokenService {
 public:
  TokenService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Creates a token. Factory and host tokens need the id of an existing factory or base;
  // consumer tokens a buyer id; admin and trainer tokens take no scope.
  Result<IssuedToken> Create(Role role, std::string scope, std::string label);

  // Resolves an "Authorization" header value ("Bearer st_..."); kUnauthenticated otherwise.
  Result<Principal> Authenticate(std::string_view authorization_header) const;

  // On a store with no admin token yet, creates one and returns it; otherwise returns an
  // empty string. This is how the first start prints the admin token exactly once.
  Result<std::string> EnsureFirstAdminToken();

 private:
  Store& store_;
  const Clock& clock_;
  // Tokens seen before, so that a request costs no hashing and no store query. Tokens are
  // never changed once made, so the cache cannot go stale.
  mutable std::shared_mutex cache_mu_;
  mutable std::unordered_map<std::string, Principal> cache_;  // guarded by cache_mu_
};

// Lower-case hex SHA-256 of `text`.
std::string Sha256Hex(std::string_view text);

}  // namespace thunder
