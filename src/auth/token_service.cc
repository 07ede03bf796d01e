#include "auth/token_service.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <mutex>
#include <unordered_set>
#include <utility>

#include "core/ids.h"

namespace thunder {
namespace {

constexpr std::string_view kPrefix = "st_";
constexpr size_t kRandomBytes = 32;

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

bool IsValidBuyerId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len);
}

Result<IssuedToken> TokenService::Create(Role role, std::string scope, std::string label,
                                         std::optional<Timestamp> expires_at) {
  if (expires_at && *expires_at <= clock_.Now()) {
    return Status::InvalidArgument(
        "expiry_in_past", "the expiry " + FormatRfc3339(*expires_at) + " has passed", "expires_at");
  }
  switch (role) {
    case Role::kAdmin:
    case Role::kTrainer:
      if (!scope.empty()) {
        return Status::InvalidArgument(
            "scope_not_allowed", std::string(RoleName(role)) + " tokens take no scope", "scope");
      }
      break;
    case Role::kFactory:
    case Role::kHost: {
      const bool factory = role == Role::kFactory;
      const auto id = ParseIdText(scope);
      if (!id) {
        return Status::InvalidArgument("scope_required",
                                       std::string(factory ? "factory" : "host") +
                                           " tokens need --scope with the id of a " +
                                           (factory ? "factory" : "live-streaming base"),
                                       "scope");
      }
      ASSIGN_OR_RETURN(auto r, store_.Query(factory ? "SELECT 1 FROM factories WHERE id = ?"
                                                    : "SELECT 1 FROM bases WHERE id = ?",
                                            {*id}));
      if (r.rows.empty()) {
        return Status::NotFound(std::string(factory ? "factory " : "base ") + scope +
                                " does not exist");
      }
      break;
    }
    case Role::kConsumer:
      if (!IsValidBuyerId(scope)) {
        return Status::InvalidArgument(
            "scope_required",
            "consumer tokens need --scope with a buyer id (1-64 letters, digits, '_' or '-')",
            "scope");
      }
      break;
  }

  unsigned char random[kRandomBytes];
  if (RAND_bytes(random, sizeof random) != 1) return Status::Internal("no randomness available");
  std::string token = std::string(kPrefix) + Hex(random, sizeof random);

  ASSIGN_OR_RETURN(
      auto r, store_.Query("INSERT INTO tokens (hash, role, scope, label, created_at, expires_at) "
                           "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                           {Sha256Hex(token), std::string(RoleName(role)), scope, std::move(label),
                            FormatRfc3339(clock_.Now()),
                            expires_at ? SqlValue(FormatRfc3339(*expires_at)) : SqlValue()}));
  return IssuedToken{std::move(token),
                     Principal{AsInt(r.rows.at(0).at(0)), role, std::move(scope)}};
}

Result<std::string_view> TokenService::TokenFromHeader(std::string_view header) {
  if (header.empty()) {
    return Status::Unauthenticated("missing Authorization header; send 'Bearer <token>'");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (!header.starts_with(kBearer)) {
    return Status::Unauthenticated("Authorization header must be 'Bearer <token>'");
  }
  const std::string_view token = header.substr(kBearer.size());
  if (!token.starts_with(kPrefix) || token.size() != kPrefix.size() + 2 * kRandomBytes) {
    return Status::Unauthenticated("malformed token");
  }
  return token;
}

Status TokenService::RefuseIfExpired(const std::optional<Timestamp>& expires_at) const {
  if (expires_at && clock_.Now() >= *expires_at) {
    return Status::Unauthenticated("token expired at " + FormatRfc3339(*expires_at));
  }
  return Status::Ok();
}

std::optional<Result<Principal>> TokenService::FromCache(std::string_view token) const {
  ReaderLock lock(cache_mu_);
  const auto it = cache_.find(std::string(token));
  if (it == cache_.end()) return std::nullopt;
  const CachedToken& cached = it->second;
  // Expiry needs no store, so it is decided here even for an entry due for a check.
  if (Status s = RefuseIfExpired(cached.expires_at); !s.ok()) return Result<Principal>(s);
  const Timestamp now = clock_.Now();
  // Fresh enough: confirmed by the store, or covered by a recent sweep of revocations. A
  // clock that stepped back also sends the entry to the store.
  auto recent = [&](Timestamp t) { return now >= t && now - t < kRevalidateAfter; };
  if (!recent(cached.checked_at) && !(swept_at_ && recent(*swept_at_))) return std::nullopt;
  return Result<Principal>(cached.principal);
}

Status TokenService::SweepRevocations() {
  // Slack before the previous sweep: a token read as valid just before its revocation and
  // cached just after that sweep ran is still caught, and so are small clock differences
  // between the processes that share the store.
  constexpr auto kSlack = std::chrono::seconds(5);
  const Timestamp started = clock_.Now();
  std::optional<Timestamp> since;
  {
    ReaderLock lock(cache_mu_);
    since = swept_at_;
  }
  ASSIGN_OR_RETURN(auto r,
                   since ? store_.Query("SELECT id FROM tokens WHERE revoked_at IS NOT NULL AND "
                                        "revoked_at >= ?",
                                        {FormatRfc3339(*since - kSlack)})
                         : store_.Query("SELECT id FROM tokens WHERE revoked_at IS NOT NULL"));
  std::unordered_set<int64_t> revoked;
  for (const auto& row : r.rows) revoked.insert(AsInt(row[0]));
  WriterLock lock(cache_mu_);
  std::erase_if(cache_, [&](const auto& entry) {
    return revoked.count(entry.second.principal.token_id) > 0;
  });
  swept_at_ = started;
  return Status::Ok();
}

void TokenService::StartRevocationSweeps(std::chrono::milliseconds every) {
  sweeper_ = std::thread([this, every] {
    pthread_setname_np(pthread_self(), "thunder-tokens");
    for (;;) {
      // A failed sweep leaves swept_at_ behind, so cached tokens go back to the store
      // (one by one) until a sweep succeeds again.
      (void)SweepRevocations();
      MutexLock lock(sweeper_mu_);
      if (!sweeper_stop_) sweeper_wake_.WaitFor(lock, every);
      if (sweeper_stop_) return;
    }
  });
}

TokenService::~TokenService() {
  {
    MutexLock lock(sweeper_mu_);
    sweeper_stop_ = true;
  }
  sweeper_wake_.NotifyAll();
  if (sweeper_.joinable()) sweeper_.join();
}

std::optional<Result<Principal>> TokenService::AuthenticateFromCache(
    std::string_view header) const {
  auto token = TokenFromHeader(header);
  if (!token.ok()) return Result<Principal>(token.status());
  return FromCache(*token);
}

Result<Principal> TokenService::Authenticate(std::string_view header) const {
  ASSIGN_OR_RETURN(const std::string_view token, TokenFromHeader(header));
  if (auto cached = FromCache(token)) return std::move(*cached);
  const Timestamp checked_at = clock_.Now();
  auto r = store_.Query("SELECT id, role, scope, expires_at, revoked_at FROM tokens WHERE hash = ?",
                        {Sha256Hex(token)});
  if (!r.ok()) return r.status();
  if (r->rows.empty() || !IsNull(r->rows[0][4])) {
    WriterLock lock(cache_mu_);
    cache_.erase(std::string(token));
    return Status::Unauthenticated("unknown or revoked token");
  }
  const auto& row = r->rows[0];
  const auto role = ParseRole(AsText(row[1]));
  if (!role) return Status::Internal("token has an unknown role");
  std::optional<Timestamp> expires_at;
  if (!IsNull(row[3])) {
    expires_at = ParseRfc3339(AsText(row[3]));
    if (!expires_at) return Status::Internal("token has an unreadable expiry");
  }
  RETURN_IF_ERROR(RefuseIfExpired(expires_at));
  Principal who{AsInt(row[0]), *role, AsText(row[2])};
  WriterLock lock(cache_mu_);
  cache_.insert_or_assign(std::string(token), CachedToken{who, expires_at, checked_at});
  return who;
}

Result<std::vector<TokenInfo>> TokenService::List() const {
  ASSIGN_OR_RETURN(auto r, store_.Query("SELECT id, role, scope, label, created_at, expires_at, "
                                        "revoked_at FROM tokens ORDER BY id"));
  std::vector<TokenInfo> tokens;
  tokens.reserve(r.rows.size());
  for (const auto& row : r.rows) {
    const auto role = ParseRole(AsText(row[1]));
    if (!role) return Status::Internal("token " + AsText(row[0]) + " has an unknown role");
    TokenInfo info{AsInt(row[0]), *role, AsText(row[2]), AsText(row[3]), AsText(row[4]), {}, {}};
    if (!IsNull(row[5])) info.expires_at = AsText(row[5]);
    if (!IsNull(row[6])) info.revoked_at = AsText(row[6]);
    tokens.push_back(std::move(info));
  }
  return tokens;
}

Status TokenService::Revoke(int64_t id) {
  ASSIGN_OR_RETURN(auto r, store_.Query("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) "
                                        "WHERE id = ? RETURNING id",
                                        {FormatRfc3339(clock_.Now()), id}));
  if (r.rows.empty()) return Status::NotFound("token " + std::to_string(id) + " does not exist");
  // This process stops accepting it at once; others within kRevalidateAfter.
  WriterLock lock(cache_mu_);
  std::erase_if(cache_, [id](const auto& entry) { return entry.second.principal.token_id == id; });
  return Status::Ok();
}

Result<std::string> TokenService::EnsureFirstAdminToken() {
  std::string created;
  RETURN_IF_ERROR(store_.InTransaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto r, store_.Query("SELECT COUNT(*) FROM tokens WHERE role = 'admin'"));
    if (AsInt(r.rows.at(0).at(0)) > 0) return Status::Ok();
    ASSIGN_OR_RETURN(auto issued, Create(Role::kAdmin, "", "first admin token"));
    created = std::move(issued.token);
    return Status::Ok();
  }));
  return created;
}

}  // namespace thunder
