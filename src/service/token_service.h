// API tokens for `rollgate serve` (domain/token.h, docs/server.md): created for a person, shown
// once, kept hashed, revocable, with an optional expiry. Anyone may create and revoke tokens for
// themselves; for someone else it takes one of server.token_admin_roles. Every change is an audit
// event (token.create, token.revoke) that never contains the secret or its hash.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "domain/token.h"
#include "store/store.h"

namespace rollgate {

struct CreatedToken {
  ApiToken token;
  std::string secret;  // shown once; not stored
};

class TokenService {
 public:
  TokenService(const Config& config, Store& store, const Clock& clock)
      : config_(config), store_(store), clock_(clock) {}

  // NotFound for a person the configuration does not list; PermissionDenied when `actor` is
  // someone else without a token admin role; InvalidArgument for a label that is not one line
  // of at most 200 characters or a validity that is not positive.
  Result<CreatedToken> Create(const std::string& person, const std::string& label,
                              std::optional<Seconds> valid_for, const std::string& actor);
  // Revoking an already revoked token is OK and changes nothing.
  Result<ApiToken> Revoke(const std::string& id, const std::string& actor);
  Result<std::vector<ApiToken>> List();
  // The token `secret` authenticates, at the clock's now. PermissionDenied with a message that
  // says why (malformed, unknown, expired, revoked, or its person no longer in the
  // configuration); the message never repeats the secret.
  Result<ApiToken> Authenticate(const std::string& secret);
  // The same, with the stored token found by `find` (given the secret's SHA-256, NotFound when
  // none) instead of a read of the store: for a caller that keeps the tokens it has read.
  using TokenLookup = std::function<Result<ApiToken>(const std::string& hash)>;
  Result<ApiToken> Authenticate(const std::string& secret, const TokenLookup& find);
  // The stored token with this SHA-256 of its secret; NotFound when none.
  Result<ApiToken> FindByHash(const std::string& hash);

 private:
  bool IsAdmin(const std::string& actor) const;

  const Config& config_;
  Store& store_;
  const Clock& clock_;
};

}  // namespace rollgate
