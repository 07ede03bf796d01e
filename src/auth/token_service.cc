#include "auth/token_service.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <mutex>

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

Result<IssuedToken> TokenService::Create(Role role, std::string scope, std::string label) {
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

  ASSIGN_OR_RETURN(auto r, store_.Query("INSERT INTO tokens (hash, role, scope, label, created_at) "
                                        "VALUES (?, ?, ?, ?, ?) RETURNING id",
                                        {Sha256Hex(token), std::string(RoleName(role)), scope,
                                         std::move(label), FormatRfc3339(clock_.Now())}));
  return IssuedToken{std::move(token),
                     Principal{AsInt(r.rows.at(0).at(0)), role, std::move(scope)}};
}

Result<Principal> TokenService::Authenticate(std::string_view header) const {
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
  {
    std::shared_lock lock(cache_mu_);
    if (auto it = cache_.find(std::string(token)); it != cache_.end()) return it->second;
  }
  auto r = store_.Query("SELECT id, role, scope FROM tokens WHERE hash = ?", {Sha256Hex(token)});
  if (!r.ok()) return r.status();
  if (r->rows.empty()) return Status::Unauthenticated("unknown or revoked token");
  const auto& row = r->rows[0];
  const auto role = ParseRole(AsText(row[1]));
  if (!role) return Status::Internal("token has an unknown role");
  Principal who{AsInt(row[0]), *role, AsText(row[2])};
  std::unique_lock lock(cache_mu_);
  cache_.emplace(std::string(token), who);
  return who;
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
