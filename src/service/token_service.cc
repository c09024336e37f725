#include "service/token_service.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "common/strings.h"

namespace rollgate {

namespace {

// 32 bytes from the kernel's CSPRNG, base64url without padding (43 characters).
Result<std::string> NewSecret() {
  std::array<unsigned char, 32> bytes{};
  size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(fmt::format("reading random bytes for a token: {}", std::strerror(errno)));
    }
    filled += static_cast<size_t>(n);
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out(kTokenPrefix);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

nlohmann::json AuditDetails(const ApiToken& token) {
  nlohmann::json details = {{"person", token.person}, {"label", token.label}};
  if (token.expires_at) details["expires"] = FormatRfc3339Utc(*token.expires_at);
  return details;
}

}  // namespace

bool TokenService::IsAdmin(const std::string& actor) const {
  for (const std::string& role : config_.server.token_admin_roles) {
    if (config_.PersonHasRole(actor, role)) return true;
  }
  return false;
}

Result<CreatedToken> TokenService::Create(const std::string& person, const std::string& label,
                                          std::optional<Seconds> valid_for,
                                          const std::string& actor) {
  if (config_.FindPerson(person) == nullptr) {
    return NotFound(fmt::format("no person {} in the configuration", EscapeForDisplay(person)));
  }
  if (person != actor && !IsAdmin(actor)) {
    return PermissionDenied(fmt::format(
        "{} may create tokens only for themselves: a token for {} takes one of the roles {}", actor,
        person, Join(config_.server.token_admin_roles, ", ")));
  }
  if (label.size() > 200 || !IsValidUtf8(label) || label.find_first_of("\r\n") != label.npos) {
    return InvalidArgument("a token's label must be one line of at most 200 characters");
  }
  if (valid_for && valid_for->count() <= 0) {
    return InvalidArgument("a token's validity must be positive");
  }
  ASSIGN_OR_RETURN(std::string secret, NewSecret());
  CreatedToken created;
  created.secret = secret;
  ApiToken& token = created.token;
  token.person = person;
  token.label = label;
  token.hash = Sha256Hex(secret);
  token.created_by = actor;
  token.created_at = clock_.Now();
  if (valid_for) token.expires_at = token.created_at + *valid_for;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int number, tx.NextNumber("TOK"));
    token.id = fmt::format("TOK-{}", number);
    RETURN_IF_ERROR(tx.PutToken(token));
    return tx
        .AppendAudit(
            {token.created_at, actor, "token.create", token.id, AuditDetails(token).dump()})
        .status();
  }));
  return created;
}

Result<ApiToken> TokenService::Revoke(const std::string& id, const std::string& actor) {
  ApiToken result;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(result, tx.GetToken(id));
    if (result.person != actor && !IsAdmin(actor)) {
      return PermissionDenied(fmt::format(
          "{} may revoke only their own tokens: {} is {}'s; revoking it takes one of the roles {}",
          actor, id, result.person, Join(config_.server.token_admin_roles, ", ")));
    }
    if (result.revoked_at) return Status::Ok();
    result.revoked_at = clock_.Now();
    result.revoked_by = actor;
    RETURN_IF_ERROR(tx.PutToken(result));
    return tx
        .AppendAudit(
            {*result.revoked_at, actor, "token.revoke", result.id, AuditDetails(result).dump()})
        .status();
  }));
  return result;
}

Result<std::vector<ApiToken>> TokenService::List() {
  std::vector<ApiToken> tokens;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(tokens, tx.ListTokens());
    return Status::Ok();
  }));
  return tokens;
}

Result<ApiToken> TokenService::FindByHash(const std::string& hash) {
  ApiToken token;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(token, tx.GetTokenByHash(hash));
    return Status::Ok();
  }));
  return token;
}

Result<ApiToken> TokenService::Authenticate(const std::string& secret) {
  return Authenticate(secret, [this](const std::string& hash) { return FindByHash(hash); });
}

Result<ApiToken> TokenService::Authenticate(const std::string& secret, const TokenLookup& find) {
  if (!LooksLikeTokenSecret(secret)) {
    return PermissionDenied("the bearer token is malformed (expected rg_ and 43 characters)");
  }
  Result<ApiToken> found = find(Sha256Hex(secret));
  if (found.status().code() == StatusCode::kNotFound) {
    return PermissionDenied("the bearer token is not known");
  }
  RETURN_IF_ERROR(found.status());
  const ApiToken& token = *found;
  RETURN_IF_ERROR(TokenUsableAt(token, clock_.Now()));
  if (config_.FindPerson(token.person) == nullptr) {
    return PermissionDenied(fmt::format(
        "token {} belongs to {}, who is no longer in the configuration", token.id, token.person));
  }
  return token;
}

}  // namespace rollgate
