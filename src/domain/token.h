// API tokens (docs/server.md): how a person authenticates to `rollgate serve`. The secret is
// shown once, when the token is created; the store keeps only its SHA-256, so a copy of the
// store does not let anyone in. A token belongs to one person; every action taken with it is
// that person's, whatever the request says. Pure data and rules: no I/O, no clock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"

namespace rollgate {

struct ApiToken {
  std::string id;      // "TOK-3"
  std::string person;  // whose actions it authenticates
  std::string label;   // what the holder uses it for ("dashboard", "ci")
  std::string hash;    // lowercase hex SHA-256 of the secret
  std::string created_by;
  Timestamp created_at{};
  std::optional<Timestamp> expires_at;  // unset: no expiry
  std::optional<Timestamp> revoked_at;
  std::string revoked_by;
  std::optional<Timestamp> last_used_at;  // informational; not part of the audit trail
};

// Secrets look like "rg_" followed by 43 characters of base64url (32 random bytes).
inline constexpr std::string_view kTokenPrefix = "rg_";

// OK when `token` authenticates at `now`; PermissionDenied saying why not (revoked, expired).
Status TokenUsableAt(const ApiToken& token, Timestamp now);

// "active", "expired" or "revoked" at `now`.
std::string_view TokenStateAt(const ApiToken& token, Timestamp now);

// Whether `secret` has the shape of a token (prefix, length, alphabet), so that malformed
// credentials are refused before any lookup.
bool LooksLikeTokenSecret(std::string_view secret);

}  // namespace rollgate
