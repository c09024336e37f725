// Remote mode's client without a server: which servers and tokens it accepts, how the API's
// errors become the CLI's statuses (and so its exit codes), and what an unreachable server says.
#include "cli/remote_client.h"

#include <gtest/gtest.h>

namespace rollgate::cli {
namespace {

using nlohmann::json;

TEST(RemoteClientTest, AcceptsOnlyAnHttpOrHttpsOriginAndAToken) {
  EXPECT_TRUE(RemoteClient::Create("http://127.0.0.1:8420", "rg_x", "").ok());
  Result<RemoteClient> slash = RemoteClient::Create("https://rollgate.example.org/", "rg_x", "");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->server(), "https://rollgate.example.org");
  for (const char* bad : {"127.0.0.1:8420", "ftp://host", "http://", "http://host/api",
                          "http://user@host", "http://host?x", "http://ho st", "http://host\n"}) {
    Result<RemoteClient> refused = RemoteClient::Create(bad, "rg_x", "");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.status().message().find("--server"), std::string::npos);
  }
  Result<RemoteClient> no_token = RemoteClient::Create("http://127.0.0.1:1", "", "");
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(no_token.status().message().find("ROLLGATE_TOKEN"), std::string::npos);
  EXPECT_FALSE(RemoteClient::Create("http://127.0.0.1:1", "rg_a\nb", "").ok());
}

TEST(RemoteClientTest, ApiErrorsBecomeTheStatusOfTheirCode) {
  json gate = {
      {"error",
       {{"code", "REFUSED_BY_GATE"}, {"message", "gate dev-evidence"}, {"field", nullptr}}}};
  Status refused = StatusFromApiError(409, gate);
  EXPECT_EQ(refused.code(), StatusCode::kRefusedByGate);
  EXPECT_EQ(refused.message(), "server: gate dev-evidence");
  json field = {{"error", {{"code", "INVALID_ARGUMENT"}, {"message", "bad"}, {"field", "reason"}}}};
  EXPECT_EQ(StatusFromApiError(400, field).message(), "server: bad (field 'reason')");
  json unauthenticated = {{"error", {{"code", "UNAUTHENTICATED"}, {"message", "token revoked"}}}};
  EXPECT_EQ(StatusFromApiError(401, unauthenticated).code(), StatusCode::kPermissionDenied);
  // Not our document (a proxy's page): the HTTP status decides.
  EXPECT_EQ(StatusFromApiError(404, json()).code(), StatusCode::kNotFound);
  EXPECT_EQ(StatusFromApiError(502, json("bad gateway")).code(), StatusCode::kInternal);
  EXPECT_EQ(StatusFromApiError(503, json()).message(), "server: the server answered HTTP 503");
}

TEST(RemoteClientTest, PathSegmentsAreEscaped) {
  EXPECT_EQ(RemoteClient::Segment("CR-12"), "CR-12");
  EXPECT_EQ(RemoteClient::Segment("../a b/c"), "..%2Fa%20b%2Fc");
}

TEST(RemoteClientTest, AnUnreachableServerIsUnavailableAndTheTokenIsNotShown) {
  // Port 1 on loopback: nothing listens there.
  Result<RemoteClient> client = RemoteClient::Create("http://127.0.0.1:1", "rg_secret", "");
  ASSERT_TRUE(client.ok());
  Result<json> answer = client->Get("/api/v1/whoami");
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(answer.status().message().find("http://127.0.0.1:1"), std::string::npos);
  EXPECT_EQ(answer.status().message().find("rg_secret"), std::string::npos);
}

}  // namespace
}  // namespace rollgate::cli
