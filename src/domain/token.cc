#include "domain/token.h"

#include <fmt/format.h>

namespace rollgate {

Status TokenUsableAt(const ApiToken& token, Timestamp now) {
  if (token.revoked_at) {
    return PermissionDenied(
        fmt::format("token {} was revoked at {}", token.id, FormatRfc3339Utc(*token.revoked_at)));
  }
  if (token.expires_at && now >= *token.expires_at) {
    return PermissionDenied(
        fmt::format("token {} expired at {}", token.id, FormatRfc3339Utc(*token.expires_at)));
  }
  return Status::Ok();
}

std::string_view TokenStateAt(const ApiToken& token, Timestamp now) {
  if (token.revoked_at) return "revoked";
  if (token.expires_at && now >= *token.expires_at) return "expired";
  return "active";
}

bool LooksLikeTokenSecret(std::string_view secret) {
  if (secret.size() != kTokenPrefix.size() + 43 || !secret.starts_with(kTokenPrefix)) {
    return false;
  }
  for (char c : secret.substr(kTokenPrefix.size())) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace rollgate
