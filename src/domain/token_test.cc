#include "domain/token.h"

#include <gtest/gtest.h>

namespace rollgate {
namespace {

Timestamp At(int64_t seconds) { return Timestamp(Seconds(seconds)); }

TEST(TokenTest, UsableUntilItExpiresOrIsRevoked) {
  ApiToken token;
  token.id = "TOK-1";
  EXPECT_TRUE(TokenUsableAt(token, At(100)).ok());
  EXPECT_EQ(TokenStateAt(token, At(100)), "active");

  token.expires_at = At(200);
  EXPECT_TRUE(TokenUsableAt(token, At(199)).ok());
  Status expired = TokenUsableAt(token, At(200));
  EXPECT_EQ(expired.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(expired.message().find("TOK-1 expired"), std::string::npos) << expired.message();
  EXPECT_EQ(TokenStateAt(token, At(200)), "expired");

  token.revoked_at = At(150);
  Status revoked = TokenUsableAt(token, At(160));
  EXPECT_EQ(revoked.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(revoked.message().find("revoked"), std::string::npos);
  EXPECT_EQ(TokenStateAt(token, At(160)), "revoked");
}

TEST(TokenTest, SecretShapeIsCheckedBeforeAnyLookup) {
  std::string good = "rg_" + std::string(43, 'A');
  EXPECT_TRUE(LooksLikeTokenSecret(good));
  EXPECT_TRUE(LooksLikeTokenSecret("rg_abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"));
  EXPECT_FALSE(LooksLikeTokenSecret(""));
  EXPECT_FALSE(LooksLikeTokenSecret("rg_"));
  EXPECT_FALSE(LooksLikeTokenSecret("xx_" + std::string(43, 'A')));
  EXPECT_FALSE(LooksLikeTokenSecret("rg_" + std::string(42, 'A')));
  EXPECT_FALSE(LooksLikeTokenSecret("rg_" + std::string(42, 'A') + "="));
  EXPECT_FALSE(LooksLikeTokenSecret("rg_" + std::string(42, 'A') + "\n"));
}

}  // namespace
}  // namespace rollgate
