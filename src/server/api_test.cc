// The API without HTTP: requests in, responses out, on a real SQLite store in a temp directory
// with the sample configuration. What the adapter adds (limits, TLS, signals) is tested over
// HTTP in http_server_test.cc.
#include "server/api.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "server/web_assets.h"
#include "service/cr_service.h"
#include "service/token_service.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate::server {
namespace {

using nlohmann::json;
using rollgate::testing::FakeClock;

// Records what the API asks and answers as a runner would: a deployment creates a run in the
// store; a rollback of DEV awaits a second authorisation; a gate refuses TEST.
class FakeRuns final : public RunControl {
 public:
  explicit FakeRuns(Store& store) : store_(store) {}
  Result<RunStarted> StartDeployment(const std::string& cr, const std::string& environment,
                                     bool emergency, const std::string& actor) override {
    calls.push_back(fmt::format("deploy {} {} {} {}", cr, environment, emergency, actor));
    if (environment == "TEST") return RefusedByGate("gate dev-evidence: DEV was not deployed");
    return Started(cr, environment, actor);
  }
  Result<RunStarted> StartRollback(const std::string& cr, const std::string& environment,
                                   const std::string& reason, const std::string& actor) override {
    calls.push_back(fmt::format("rollback {} {} {} {}", cr, environment, reason, actor));
    if (environment == "DEV") return RunStarted{"", {"cab-chair"}};
    return Started(cr, environment, actor);
  }
  Status Cancel(const std::string& run_id, const std::string& actor) override {
    calls.push_back(fmt::format("cancel {} {}", run_id, actor));
    return Status::Ok();
  }
  // "continue" is recorded without a run; "rollback" starts one.
  Result<RunStarted> Decide(const std::string& cr, const std::string& environment,
                            const std::string& decision, const std::string& reason,
                            const std::string& actor) override {
    calls.push_back(fmt::format("decide {} {} {} {} {}", cr, environment, decision, reason, actor));
    if (decision == "continue") return RunStarted{};
    return Started(cr, environment, actor);
  }
  Result<RunStarted> RespondToFirings(const std::string& cr, const std::string& environment,
                                      const std::vector<TriggerFiring>& firings,
                                      const std::string& actor) override {
    calls.push_back(fmt::format("respond {} {} {} {}", cr, environment, firings.size(), actor));
    return Started(cr, environment, actor);
  }
  Result<RunStarted> Started(const std::string& cr, const std::string& environment,
                             const std::string& actor) {
    Run run;
    run.change_request = cr;
    run.environment = environment;
    run.system = "billing";
    run.state = RunState::kRunning;
    run.created_by = actor;
    RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(int n, tx.NextNumber("RUN"));
      run.id = fmt::format("RUN-{}", n);
      return tx.PutRun(run);
    }));
    return RunStarted{run.id, {}};
  }
  std::vector<std::string> calls;

 private:
  Store& store_;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollgate-api-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto opened = OpenSqliteStore(dir_ / "state.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    config_.people.push_back({"gone", "Gone Person", "", "", "", {"engineer"}});
    api_ = std::make_unique<Api>(
        config_, [this]() -> Result<Store*> { return store_.get(); }, clock_, zone_, metrics_);
    // A patch and a CR in draft, created by eve.
    Patch patch = rollgate::testing::SamplePatch(5.0);  // P3: no assessment needed
    ChangeRequest cr = rollgate::testing::SampleChangeRequest(config_, patch);
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) -> Status {
                      RETURN_IF_ERROR(tx.NextNumber("PATCH").status());
                      RETURN_IF_ERROR(tx.PutPatch(patch));
                      RETURN_IF_ERROR(tx.NextNumber("CR").status());
                      return tx.PutChangeRequest(cr);
                    })
                    .ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A running run of billing, for CR `cr` in `environment`, created now.
  rollgate::Run RunningRun(const std::string& id, const std::string& cr,
                           const std::string& environment) const {
    rollgate::Run run;
    run.id = id;
    run.change_request = cr;
    run.environment = environment;
    run.system = "billing";
    run.state = RunState::kRunning;
    run.created_at = clock_.Now();
    return run;
  }

  std::string TokenFor(const std::string& person) {
    TokenService tokens(config_, *store_, clock_);
    auto created = tokens.Create(person, "test", std::nullopt, person);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->secret : "";
  }

  ApiResponse Call(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = "", std::multimap<std::string, std::string> query = {},
                   std::map<std::string, std::string> headers = {}) {
    ApiRequest request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.headers = std::move(headers);
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    if (!body.empty() && !request.headers.contains("content-type")) {
      request.headers["content-type"] = "application/json";
    }
    request.body = body;
    return api_->Handle(request);
  }

  static json Body(const ApiResponse& response) {
    json parsed = json::parse(response.Text(), nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << response.Text();
    return parsed;
  }

  // The value of a response header; empty when it has none.
  static std::string Header(const ApiResponse& response, const std::string& name) {
    for (const auto& [n, v] : response.headers) {
      if (n == name) return v;
    }
    return "";
  }

  int AuditCount() {
    int count = 0;
    EXPECT_TRUE(store_
                    ->ForEachAuditEvent([&](const AuditEvent&) {
                      ++count;
                      return Status::Ok();
                    })
                    .ok());
    return count;
  }

  std::filesystem::path dir_;
  Config config_ = rollgate::testing::SampleConfig();
  FakeClock clock_{rollgate::testing::MondayMorning()};
  FixedOffsetZone zone_{Seconds(0)};
  ServerMetrics metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, HealthReadyAndMetricsNeedNoToken) {
  ApiResponse health = Call("GET", "/health", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Body(health)["status"], "ok");
  ApiResponse ready = Call("GET", "/ready", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(Body(ready)["ready"], true);
  Call("GET", "/api/v1/crs", "");
  ApiResponse metrics = Call("GET", "/metrics", "");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.Text().find("rollgate_http_requests_total{route=\"/health\",method=\"GET\","
                                "code=\"200\"} 1"),
            std::string::npos)
      << metrics.Text();
  EXPECT_NE(metrics.Text().find("rollgate_http_request_duration_seconds_bucket{route=\"/health\","
                                "le=\"+Inf\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.Text().find("rollgate_runs{state=\"running\"} 0"), std::string::npos);
  EXPECT_NE(metrics.Text().find("rollgate_notifications{state=\"pending\"} 0"), std::string::npos);
  EXPECT_NE(metrics.Text().find("rollgate_notifications{state=\"failed\"} 0"), std::string::npos);
  EXPECT_NE(metrics.Text().find("# TYPE rollgate_step_duration_seconds histogram"),
            std::string::npos);
  EXPECT_NE(metrics.Text().find("rollgate_store_up 1"), std::string::npos);
  EXPECT_EQ(Call("POST", "/health", "").status, 405);
}

TEST_F(ApiTest, MissingMalformedUnknownExpiredAndRevokedTokensAre401) {
  std::string good = TokenFor("eve");
  for (const std::string& token :
       {std::string(), std::string("nonsense"), "rg_" + std::string(43, 'A')}) {
    ApiResponse response = Call("GET", "/api/v1/crs", token);
    EXPECT_EQ(response.status, 401) << token;
    json error = Body(response)["error"];
    EXPECT_EQ(error["code"], "UNAUTHENTICATED");
    EXPECT_FALSE(error["message"].get<std::string>().empty());
    bool challenge = false;
    for (const auto& [name, value] : response.headers) challenge |= name == "WWW-Authenticate";
    EXPECT_TRUE(challenge);
    EXPECT_EQ(response.Text().find("AAAAAAAAAAAAAAAAAAAA"), std::string::npos);  // not echoed
  }
  EXPECT_EQ(Call("GET", "/api/v1/crs", good).status, 200);

  TokenService tokens(config_, *store_, clock_);
  auto short_lived = tokens.Create("eve", "short", Seconds(60), "eve");
  ASSERT_TRUE(short_lived.ok());
  EXPECT_EQ(Call("GET", "/api/v1/whoami", short_lived->secret).status, 200);
  clock_.Advance(Seconds(61));
  ApiResponse expired = Call("GET", "/api/v1/whoami", short_lived->secret);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(Body(expired)["error"]["message"].get<std::string>().find("expired"),
            std::string::npos);

  auto listed = tokens.List();
  ASSERT_TRUE(listed.ok());
  ASSERT_TRUE(tokens.Revoke(listed->front().id, "eve").ok());
  ApiResponse revoked = Call("GET", "/api/v1/whoami", good);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_NE(Body(revoked)["error"]["message"].get<std::string>().find("revoked"),
            std::string::npos);

  // A person removed from the configuration can no longer use their token.
  std::string gone = TokenFor("gone");
  config_.people.pop_back();
  EXPECT_EQ(Call("GET", "/api/v1/whoami", gone).status, 401);
}

TEST_F(ApiTest, WhoamiIsTheTokensPerson) {
  ApiResponse response = Call("GET", "/api/v1/whoami", TokenFor("hal"));
  ASSERT_EQ(response.status, 200);
  json body = Body(response);
  EXPECT_EQ(body["person"], "hal");
  EXPECT_EQ(body["read_only"], true);
  EXPECT_EQ(body["token"]["state"], "active");
  EXPECT_FALSE(body["token"].contains("hash"));
}

TEST_F(ApiTest, ReadsCarryAnEtagAndAnswer304WhenUnchanged) {
  std::string token = TokenFor("eve");
  ApiResponse first = Call("GET", "/api/v1/crs/CR-1", token);
  ASSERT_EQ(first.status, 200) << first.Text();
  EXPECT_EQ(Body(first)["id"], "CR-1");
  std::string etag = Header(first, "ETag");
  ASSERT_FALSE(etag.empty());
  ApiResponse again = Call("GET", "/api/v1/crs/CR-1", token, "", {}, {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.Text().empty());
  // A change makes a new representation.
  ASSERT_EQ(Call("POST", "/api/v1/crs/CR-1/submit", token).status, 200);
  ApiResponse changed = Call("GET", "/api/v1/crs/CR-1", token, "", {}, {{"if-none-match", etag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(Body(changed)["state"], "submitted");
}

// The CR list is rendered once per change of the store: a change shows at once, and each query
// is its own document.
TEST_F(ApiTest, TheCrListShowsAChangeAtOnce) {
  std::string token = TokenFor("eve");
  ApiResponse first = Call("GET", "/api/v1/crs", token);
  ASSERT_EQ(first.status, 200) << first.Text();
  EXPECT_EQ(Body(first)["items"][0]["state"], "draft");
  ApiResponse same = Call("GET", "/api/v1/crs", token);
  EXPECT_EQ(same.Text(), first.Text());
  EXPECT_EQ(Header(same, "ETag"), Header(first, "ETag"));
  EXPECT_EQ(Body(Call("GET", "/api/v1/crs", token, "", {{"state", "draft"}}))["total"], 1);

  ASSERT_EQ(Call("POST", "/api/v1/crs/CR-1/submit", token).status, 200);
  ApiResponse changed = Call("GET", "/api/v1/crs", token);
  ASSERT_EQ(changed.status, 200) << changed.Text();
  EXPECT_EQ(Body(changed)["items"][0]["state"], "submitted");
  EXPECT_NE(Header(changed, "ETag"), Header(first, "ETag"));
  EXPECT_EQ(Body(Call("GET", "/api/v1/crs", token, "", {{"state", "draft"}}))["total"], 0);
  EXPECT_EQ(Body(Call("GET", "/api/v1/crs", token, "", {{"state", "submitted"}}))["total"], 1);
}

TEST_F(ApiTest, ARunIsRenderedAgainOnlyWhenItsRunStepsOrCrChanged) {
  std::string token = TokenFor("eve");
  rollgate::Run run = RunningRun("RUN-1", "CR-1", "TEST");
  rollgate::Run other = RunningRun("RUN-2", "", "TEST");
  auto step = [](const std::string& run_id, const std::string& host) {
    StepExecution e;
    e.run_id = run_id;
    e.phase = 0;
    e.step = 0;
    e.step_name = "install";
    e.host = host;
    e.attempt = 1;
    e.state = StepState::kSucceeded;
    e.status_file = "/tmp/" + run_id + "-" + host;
    return e;
  };
  auto write = [&](const std::function<Status(Transaction&)>& body) {
    Status written = store_->Write(body);
    ASSERT_TRUE(written.ok()) << written.ToString();
  };
  write([&](Transaction& tx) -> Status {
    RETURN_IF_ERROR(tx.PutRun(run));
    return tx.PutRun(other);
  });
  ApiResponse first = Call("GET", "/api/v1/runs/RUN-1", token);
  ASSERT_EQ(first.status, 200) << first.Text();
  ASSERT_NE(first.shared_body, nullptr);
  EXPECT_EQ(Call("GET", "/api/v1/runs/RUN-1", token).shared_body, first.shared_body);

  // Another run's step: the store changed, RUN-1 did not; its document is kept, not rendered.
  write([&](Transaction& tx) { return tx.PutStepExecution(step("RUN-2", "web9")); });
  ApiResponse kept = Call("GET", "/api/v1/runs/RUN-1", token);
  EXPECT_EQ(kept.shared_body, first.shared_body);
  EXPECT_EQ(Header(kept, "ETag"), Header(first, "ETag"));
  EXPECT_NE(Call("GET", "/api/v1/runs/RUN-2", token).Text().find("web9"), std::string::npos);

  // Its own step: shown at once.
  write([&](Transaction& tx) { return tx.PutStepExecution(step("RUN-1", "web1")); });
  ApiResponse stepped = Call("GET", "/api/v1/runs/RUN-1", token);
  EXPECT_NE(stepped.shared_body, first.shared_body);
  EXPECT_NE(stepped.Text().find("web1"), std::string::npos) << stepped.Text();
  EXPECT_NE(Header(stepped, "ETag"), Header(first, "ETag"));

  // Its CR (which holds the evidence of its triggers): rendered again.
  ASSERT_EQ(Call("POST", "/api/v1/crs/CR-1/submit", token).status, 200);
  EXPECT_NE(Call("GET", "/api/v1/runs/RUN-1", token).shared_body, stepped.shared_body);

  // The run itself.
  run.state = RunState::kSucceeded;
  write([&](Transaction& tx) { return tx.PutRun(run); });
  EXPECT_EQ(Body(Call("GET", "/api/v1/runs/RUN-1", token))["state"], "succeeded");
}

TEST_F(ApiTest, ListsArePaginatedWithTheNextPage) {
  std::string token = TokenFor("eve");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(TokenService(config_, *store_, clock_).List().ok());
  ApiResponse audit = Call("GET", "/api/v1/audit", token, "", {{"limit", "1"}});
  ASSERT_EQ(audit.status, 200) << audit.Text();
  json page = Body(audit);
  EXPECT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["limit"], 1);
  EXPECT_EQ(page["offset"], 0);
  int total = page["total"];
  ASSERT_GE(total, 1);  // token.create at least
  if (total > 1) {
    EXPECT_EQ(page["next"], "/api/v1/audit?limit=1&offset=1");
  }
  // A filter value is taken whole, whatever characters it holds.
  ApiResponse escaped =
      Call("GET", "/api/v1/audit", token, "", {{"limit", "1"}, {"object", "a&b c"}});
  ASSERT_EQ(escaped.status, 200) << escaped.Text();
  EXPECT_EQ(Body(escaped)["total"], 0);
  ApiResponse crs = Call("GET", "/api/v1/crs", token, "", {{"state", "draft"}});
  ASSERT_EQ(crs.status, 200) << crs.Text();
  EXPECT_EQ(Body(crs)["items"][0]["id"], "CR-1");
  EXPECT_EQ(Body(crs)["next"], nullptr);
  EXPECT_EQ(Body(Call("GET", "/api/v1/crs", token, "", {{"state", "submitted"}}))["total"], 0);
  ApiResponse patches = Call("GET", "/api/v1/patches", token);
  EXPECT_EQ(Body(patches)["items"][0]["id"], "PATCH-1");
  EXPECT_EQ(Call("GET", "/api/v1/patches/PATCH-1", token).status, 200);

  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"limit", "0"},
                                                        {"limit", "501"},
                                                        {"limit", "ten"},
                                                        {"offset", "-1"},
                                                        {"state", "nonsense"},
                                                        {"colour", "blue"}}) {
    ApiResponse bad = Call("GET", "/api/v1/crs", token, "", {{name, value}});
    EXPECT_EQ(bad.status, 400) << name << "=" << value;
    EXPECT_EQ(Body(bad)["error"]["field"], name) << bad.Text();
  }
}

TEST_F(ApiTest, ApprovalIsTheTokensPersonAndNeedsTheRole) {
  std::string eve = TokenFor("eve"), dana = TokenFor("dana"), hal = TokenFor("hal");
  ASSERT_EQ(Call("POST", "/api/v1/crs/CR-1/submit", eve).status, 200);
  int before = AuditCount();

  // A forged approver field is an unknown field: refused, nothing changed.
  ApiResponse forged =
      Call("POST", "/api/v1/crs/CR-1/approvals", eve, R"({"environment":"DEV","approver":"dana"})");
  EXPECT_EQ(forged.status, 400);
  EXPECT_EQ(Body(forged)["error"]["field"], "approver");
  // eve is no development lead.
  ApiResponse no_role = Call("POST", "/api/v1/crs/CR-1/approvals", eve, R"({"environment":"DEV"})");
  EXPECT_EQ(no_role.status, 403) << no_role.Text();
  // The help desk reads only.
  ApiResponse help_desk =
      Call("POST", "/api/v1/crs/CR-1/approvals", hal, R"({"environment":"DEV"})");
  EXPECT_EQ(help_desk.status, 403);
  EXPECT_NE(Body(help_desk)["error"]["message"].get<std::string>().find("read"), std::string::npos);
  EXPECT_EQ(AuditCount(), before);

  ApiResponse approved =
      Call("POST", "/api/v1/crs/CR-1/approvals", dana, R"({"environment":"DEV"})");
  ASSERT_EQ(approved.status, 200) << approved.Text();
  json cr = Body(approved);
  ASSERT_EQ(cr["approvals"].size(), 1u) << approved.Text();
  EXPECT_EQ(cr["approvals"][0]["approver"], "dana");
  EXPECT_EQ(cr["approvals"][0]["environment"], "DEV");
  EXPECT_EQ(AuditCount(), before + 1);
  auto events = store_->AuditEventsFor("CR-1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().actor, "dana");
}

TEST_F(ApiTest, MalformedBodiesAreRefusedWithTheFieldAndChangeNothing) {
  std::string eve = TokenFor("eve"), dana = TokenFor("dana");
  ASSERT_EQ(Call("POST", "/api/v1/crs/CR-1/submit", eve).status, 200);
  int before = AuditCount();
  struct Case {
    std::string body;
    std::string field;  // "" when the body as a whole is wrong
    std::map<std::string, std::string> headers;
  };
  std::vector<Case> cases = {
      {"{", "", {}},
      {"[1,2]", "", {}},
      {"\"DEV\"", "", {}},
      {std::string("{\"environment\":\"DE\xff\"}"), "", {}},
      {R"({"environment":7})", "environment", {}},
      {R"({"environment":null})", "environment", {}},
      {R"({})", "environment", {}},
      {R"({"environment":"DEV","extra":true})", "extra", {}},
      {R"({"environment":"DEV"})", "", {{"content-type", "text/plain"}}},
  };
  for (const Case& c : cases) {
    ApiResponse response = Call("POST", "/api/v1/crs/CR-1/approvals", dana, c.body, {}, c.headers);
    EXPECT_EQ(response.status, 400) << c.body;
    json error = Body(response)["error"];
    EXPECT_EQ(error["code"], "INVALID_ARGUMENT") << c.body;
    EXPECT_EQ(error["field"], c.field.empty() ? json(nullptr) : json(c.field)) << c.body;
  }
  ApiResponse unknown_env =
      Call("POST", "/api/v1/crs/CR-1/approvals", dana, R"({"environment":"STAGING"})");
  EXPECT_GE(unknown_env.status, 400);
  EXPECT_LT(unknown_env.status, 500);
  EXPECT_EQ(Call("POST", "/api/v1/crs/CR-99/approvals", dana, R"({"environment":"DEV"})").status,
            404);
  EXPECT_EQ(AuditCount(), before);
}

TEST_F(ApiTest, UnknownRoutesAndMethodsAreJsonErrors) {
  std::string eve = TokenFor("eve");
  ApiResponse missing = Call("GET", "/api/v1/nothing", eve);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["error"]["code"], "NOT_FOUND");
  ApiResponse outside = Call("GET", "/etc/passwd", "");
  EXPECT_EQ(outside.status, 404);
  ApiResponse method = Call("DELETE", "/api/v1/crs/CR-1", eve);
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(Body(method)["error"]["code"], "METHOD_NOT_ALLOWED");
  EXPECT_EQ(Call("GET", "/api/v1/runs/RUN-404", eve).status, 404);
  // A made-up method is answered and counted, but never becomes a label value of its own.
  EXPECT_EQ(Call("BREW\nX", "/health", "").status, 405);
  std::string metrics = Call("GET", "/metrics", "").Text();
  EXPECT_NE(metrics.find("route=\"/health\",method=\"other\",code=\"405\""), std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("BREW"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/crs/CR-1/gates", eve).status, 400);  // environment missing
  ApiResponse gates = Call("GET", "/api/v1/crs/CR-1/gates", eve, "", {{"environment", "DEV"}});
  EXPECT_EQ(gates.status, 200) << gates.Text();
  EXPECT_EQ(Body(gates)["passed"], false);
}

TEST_F(ApiTest, RunsStartedThroughTheApiActAsTheTokensPerson) {
  std::string eve = TokenFor("eve"), hal = TokenFor("hal");
  // Without a runner (this test's Api), starting answers 503 and nothing is asked.
  ApiResponse none =
      Call("POST", "/api/v1/runs", eve, R"({"change_request":"CR-1","environment":"DEV"})");
  EXPECT_EQ(none.status, 503) << none.Text();

  FakeRuns runs(*store_);
  api_ = std::make_unique<Api>(
      config_, [this]() -> Result<Store*> { return store_.get(); }, clock_, zone_, metrics_, &runs);
  ApiResponse started =
      Call("POST", "/api/v1/runs", eve, R"({"change_request":"CR-1","environment":"DEV"})");
  ASSERT_EQ(started.status, 202) << started.Text();
  EXPECT_EQ(Body(started)["id"], "RUN-1");
  EXPECT_EQ(Body(started)["state"], "running");
  EXPECT_EQ(std::count(started.headers.begin(), started.headers.end(),
                       std::pair<std::string, std::string>("Location", "/api/v1/runs/RUN-1")),
            1);
  // The refusal of the runner is the answer, with its status.
  ApiResponse refused =
      Call("POST", "/api/v1/runs", eve, R"({"change_request":"CR-1","environment":"TEST"})");
  EXPECT_EQ(refused.status, 409) << refused.Text();
  EXPECT_NE(Body(refused)["error"]["message"].get<std::string>().find("dev-evidence"),
            std::string::npos);

  // Bad bodies, a forged actor and the help desk are refused before the runner is asked.
  size_t asked = runs.calls.size();
  EXPECT_EQ(Body(Call("POST", "/api/v1/runs", eve, R"({"environment":"DEV"})"))["error"]["field"],
            "change_request");
  EXPECT_EQ(
      Body(Call(
          "POST", "/api/v1/runs", eve,
          R"({"change_request":"CR-1","environment":"DEV","emergency":"yes"})"))["error"]["field"],
      "emergency");
  EXPECT_EQ(
      Body(Call(
          "POST", "/api/v1/runs", eve,
          R"({"change_request":"CR-1","environment":"DEV","actor":"dana"})"))["error"]["field"],
      "actor");
  EXPECT_EQ(
      Call("POST", "/api/v1/runs", hal, R"({"change_request":"CR-1","environment":"DEV"})").status,
      403);
  EXPECT_EQ(Call("POST", "/api/v1/runs/RUN-1/rollback", eve, R"({})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/runs/RUN-1/cancel", hal).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/runs/RUN-1/cancel", eve).status, 405);
  EXPECT_EQ(Call("POST", "/api/v1/runs/RUN-9/cancel", eve).status, 404);
  EXPECT_EQ(runs.calls.size(), asked);

  // A rollback names the run; the runner gets its CR and environment.
  ApiResponse awaiting =
      Call("POST", "/api/v1/runs/RUN-1/rollback", eve, R"({"reason":"errors up"})");
  ASSERT_EQ(awaiting.status, 202) << awaiting.Text();
  EXPECT_EQ(Body(awaiting)["id"], nullptr);
  EXPECT_EQ(Body(awaiting)["awaiting"], json::array({"cab-chair"}));
  ApiResponse cancel = Call("POST", "/api/v1/runs/RUN-1/cancel", eve);
  EXPECT_EQ(cancel.status, 202) << cancel.Text();
  EXPECT_EQ(runs.calls,
            (std::vector<std::string>{"deploy CR-1 DEV false eve", "deploy CR-1 TEST false eve",
                                      "rollback CR-1 DEV errors up eve", "cancel RUN-1 eve"}));
  // The list is newest first.
  ASSERT_EQ(
      Call("POST", "/api/v1/runs", eve, R"({"change_request":"CR-1","environment":"PROD"})").status,
      202);
  json list = Body(Call("GET", "/api/v1/runs", eve));
  ASSERT_EQ(list["items"].size(), 2u) << list;
  EXPECT_EQ(list["items"][0]["id"], "RUN-2");
}

TEST_F(ApiTest, TheDashboardIsServedWithoutATokenAndWithSecurityHeaders) {
  ApiResponse root = Call("GET", "/", "");
  EXPECT_EQ(root.status, 301);
  EXPECT_EQ(Header(root, "Location"), "/ui/");
  ApiResponse index = Call("GET", "/ui/", "");
  ASSERT_EQ(index.status, 200) << index.Text();
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.Text().find("<!doctype html>"), std::string::npos);
  EXPECT_NE(Header(index, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(Header(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(index, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(Header(index, "X-Frame-Options"), "DENY");
  EXPECT_FALSE(Header(index, "ETag").empty());
  EXPECT_EQ(index.route, "/ui/");
  // The HTML names no inline script or style: the policy would refuse it.
  EXPECT_EQ(index.Text().find("<script>"), std::string::npos);
  EXPECT_EQ(index.Text().find("style="), std::string::npos);

  ApiResponse script = Call("GET", "/ui/app.js", "");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  ApiResponse style = Call("GET", "/ui/style.css", "");
  ASSERT_EQ(style.status, 200);
  EXPECT_EQ(style.content_type, "text/css; charset=utf-8");

  ApiResponse missing = Call("GET", "/ui/../state.db", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["error"]["code"], "NOT_FOUND");
  EXPECT_EQ(Call("GET", "/ui/nope.js", "").status, 404);
  ApiResponse post = Call("POST", "/ui/", "");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(Header(post, "Allow"), "GET, HEAD");
  EXPECT_EQ(ContentTypeFor("x.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("noextension"), "application/octet-stream");
}

TEST_F(ApiTest, CalendarIsTheCalendarCommandsDocument) {
  std::string token = TokenFor("eve");
  ApiResponse response = Call("GET", "/api/v1/calendar", token, "",
                              {{"from", "2026-11-30"}, {"to", "2026-12-06"}, {"env", "PROD"}});
  ASSERT_EQ(response.status, 200) << response.Text();
  json body = Body(response);
  EXPECT_EQ(body["from"], "2026-11-30T00:00:00Z");
  EXPECT_EQ(body["to"], "2026-12-07T00:00:00Z");
  EXPECT_EQ(body["environment"], "PROD");
  EXPECT_TRUE(body["entries"].is_array());
  EXPECT_TRUE(body["conflicts"].is_array());
  ApiResponse defaults = Call("GET", "/api/v1/calendar", token);
  ASSERT_EQ(defaults.status, 200) << defaults.Text();
  EXPECT_EQ(Body(defaults)["from"], "2026-11-30T00:00:00Z");
  EXPECT_EQ(Body(defaults)["to"], "2026-12-14T00:00:00Z");
  EXPECT_TRUE(Body(defaults)["environment"].is_null());

  ApiResponse bad_date = Call("GET", "/api/v1/calendar", token, "", {{"from", "tomorrow"}});
  EXPECT_EQ(bad_date.status, 400);
  EXPECT_EQ(Body(bad_date)["error"]["field"], "from");
  ApiResponse bad_env = Call("GET", "/api/v1/calendar", token, "", {{"env", "MARS"}});
  EXPECT_EQ(bad_env.status, 400) << bad_env.Text();
  EXPECT_EQ(Body(bad_env)["error"]["field"], "env");
  ApiResponse backwards =
      Call("GET", "/api/v1/calendar", token, "", {{"from", "2026-12-10"}, {"to", "2026-12-01"}});
  EXPECT_EQ(backwards.status, 400);
  EXPECT_EQ(Body(backwards)["error"]["field"], "to");
  EXPECT_EQ(Body(Call("GET", "/api/v1/calendar", token, "", {{"form", "x"}}))["error"]["field"],
            "form");
  EXPECT_EQ(Call("GET", "/api/v1/calendar", "").status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/calendar", token).status, 405);
}

TEST_F(ApiTest, StatusSaysInPlainWordsWhatIsChangingNowAndWhatFinished) {
  std::string token = TokenFor("eve");
  rollgate::Run running = RunningRun("RUN-1", "CR-1", "PROD");
  running.created_at = clock_.Now() - std::chrono::minutes(5);
  rollgate::Run done = running;
  done.id = "RUN-2";
  done.environment = "TEST";
  done.state = RunState::kSucceeded;
  done.finished_at = clock_.Now() - std::chrono::hours(1);
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> Status {
                    RETURN_IF_ERROR(tx.PutRun(running));
                    return tx.PutRun(done);
                  })
                  .ok());
  ApiResponse response = Call("GET", "/api/v1/status", token);
  ASSERT_EQ(response.status, 200) << response.Text();
  json body = Body(response);
  ASSERT_EQ(body["now"].size(), 1u) << body.dump(2);
  std::string now_text = body["now"][0]["text"];
  EXPECT_EQ(now_text.rfind("Billing in PROD is being patched now (CR-1", 0), 0u) << now_text;
  EXPECT_EQ(body["now"][0]["run"], "RUN-1");
  EXPECT_EQ(body["now"][0]["environment"], "PROD");
  EXPECT_FALSE(body["now"][0]["until"].is_null());
  ASSERT_EQ(body["finished"].size(), 1u);
  EXPECT_EQ(body["finished"][0]["text"],
            "Billing in TEST was patched successfully at 08:00 UTC (CR-1)");
  EXPECT_EQ(body["summary"], "1 change is in progress right now.");
  EXPECT_EQ(body["days"], 7);
  ApiResponse bad = Call("GET", "/api/v1/status", token, "", {{"days", "0"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"]["field"], "days");
}

TEST_F(ApiTest, RunsAndRunEventsCarryTheTriggerEvidenceOfTheirRollback) {
  std::string token = TokenFor("eve");
  rollgate::Run run = RunningRun("RUN-1", "CR-1", "TEST");
  // A rollback trigger fired during the run: its evidence on the CR names the run.
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& tx) -> Status {
                    RETURN_IF_ERROR(tx.PutRun(run));
                    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest("CR-1"));
                    Evidence trigger;
                    trigger.environment = "TEST";
                    trigger.kind = kEvidenceTrigger;
                    trigger.value = 97.5;
                    trigger.detail = "availability 97.5 % below 99.5 %";
                    trigger.fields = {{"kind", "availability"}, {"action", "rollback"}};
                    trigger.at = clock_.Now();
                    trigger.run_id = "RUN-1";
                    cr.evidence.push_back(trigger);
                    trigger.run_id = "RUN-2";  // another run's: not shown
                    cr.evidence.push_back(trigger);
                    return tx.PutChangeRequest(cr);
                  })
                  .ok());
  ApiResponse events = Call("GET", "/api/v1/runs/RUN-1/events", token);
  ASSERT_EQ(events.status, 200) << events.Text();
  EXPECT_EQ(events.route, "/api/v1/runs/{id}/events");
  EXPECT_EQ(Body(events)["id"], "RUN-1");
  json triggers = Body(events)["triggers"];
  ASSERT_EQ(triggers.size(), 1u) << triggers.dump();
  EXPECT_EQ(triggers[0]["trigger"], "availability");
  EXPECT_EQ(triggers[0]["action"], "rollback");
  EXPECT_EQ(triggers[0]["measurement"], 97.5);
  EXPECT_EQ(triggers[0]["detail"], "availability 97.5 % below 99.5 %");
  EXPECT_EQ(Body(events)["state"], "running");
  EXPECT_EQ(Body(Call("GET", "/api/v1/runs/RUN-1", token))["triggers"], triggers);
  EXPECT_EQ(Call("GET", "/api/v1/runs/RUN-9/events", token).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/runs/RUN-1/events", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/runs/RUN-1/events", token, "", {{"x", "1"}}).status, 400);
}

TEST_F(ApiTest, PagesAreOpenedReadAndAcknowledgedAsTheTokensPerson) {
  std::string eve = TokenFor("eve"), dana = TokenFor("dana"), hal = TokenFor("hal");
  // Bad input and the help desk change nothing.
  EXPECT_EQ(Body(Call("POST", "/api/v1/pages", dana, R"({"path":"standard"})"))["error"]["field"],
            "subject");
  EXPECT_EQ(Call("POST", "/api/v1/pages", dana, R"({"path":"urgent","subject":"x"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/pages", hal, R"({"path":"standard","subject":"x"})").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/pages", dana, "", {{"open", "maybe"}}).status, 400);
  EXPECT_EQ(Body(Call("GET", "/api/v1/pages", dana))["total"], 0);

  ApiResponse opened =
      Call("POST", "/api/v1/pages", dana, R"({"path":"standard","subject":"billing answers 502"})");
  ASSERT_EQ(opened.status, 201) << opened.Text();
  json page = Body(opened);
  EXPECT_EQ(page["id"], "PAGE-1");
  EXPECT_EQ(Body(Call("GET", "/api/v1/pages", dana, "", {{"open", "true"}}))["total"], 1);
  EXPECT_EQ(Body(Call("GET", "/api/v1/pages/PAGE-1", hal))["id"], "PAGE-1");  // reading is fine
  EXPECT_EQ(Call("GET", "/api/v1/pages/PAGE-9", dana).status, 404);

  // eve is the on-call engineer of level 1: she acknowledges; the help desk may not.
  EXPECT_EQ(Call("POST", "/api/v1/pages/PAGE-1/ack", hal).status, 403);
  ApiResponse acked = Call("POST", "/api/v1/pages/PAGE-1/ack", eve);
  ASSERT_EQ(acked.status, 200) << acked.Text();
  EXPECT_EQ(Body(Call("GET", "/api/v1/pages", dana, "", {{"open", "true"}}))["total"], 0);
  EXPECT_EQ(Call("POST", "/api/v1/pages/PAGE-1/ack", eve).status, 409);
  auto events = store_->AuditEventsFor("PAGE-1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->front().actor, "dana");
  EXPECT_EQ(events->back().actor, "eve");
}

}  // namespace
}  // namespace rollgate::server

namespace rollgate::server {
namespace {

TEST_F(ApiTest, PatchesAndCrsAreCreatedAsTheTokensPerson) {
  std::string eve = TokenFor("eve"), hal = TokenFor("hal");
  int before = AuditCount();
  // Refused before anything is stored: wrong types, a server path as the package, a digest
  // without a package, the help desk.
  struct Case {
    std::string body, field;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"title":"t","source":"vendor-advisory","cves":"CVE-2026-1"})", "cves", 400},
           {R"({"title":"t","source":"vendor-advisory","cves":[1]})", "cves", 400},
           {R"({"title":"t","source":"vendor-advisory","package_url":"/etc/passwd"})",
            "package_url", 400},
           {R"({"title":"t","source":"vendor-advisory","package_sha256":"ab"})", "package_sha256",
            400},
           {R"({"title":"t","source":"vendor-advisory","created_by":"dana"})", "created_by", 400},
           {R"({"source":"vendor-advisory"})", "title", 400},
       }) {
    ApiResponse refused = Call("POST", "/api/v1/patches", eve, c.body);
    EXPECT_EQ(refused.status, c.status) << c.body << " " << refused.Text();
    EXPECT_EQ(Body(refused)["error"]["field"], c.field) << c.body;
  }
  EXPECT_EQ(Call("POST", "/api/v1/patches", eve, R"({"title":"t","source":"nobody"})").status, 400);
  EXPECT_EQ(
      Call("POST", "/api/v1/patches", hal, R"({"title":"t","source":"vendor-advisory"})").status,
      403);
  EXPECT_EQ(AuditCount(), before);

  ApiResponse patch = Call("POST", "/api/v1/patches", eve,
                           R"({"title":"libfoo 2.4.1","source":"vendor-advisory",
                               "cves":["CVE-2026-1234"],"version":"2.4.1",
                               "cvss_vectors":["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
                               "exploited":true})");
  ASSERT_EQ(patch.status, 201) << patch.Text();
  json p = Body(patch);
  EXPECT_EQ(p["created_by"], "eve");
  EXPECT_EQ(p["classification"], "P1");
  EXPECT_EQ(p["cves"], json::array({"CVE-2026-1234"}));
  std::string id = p["id"];
  EXPECT_EQ(std::count(patch.headers.begin(), patch.headers.end(),
                       std::pair<std::string, std::string>("Location", "/api/v1/patches/" + id)),
            1);

  // The classification is overridden with a justification, as `patch classify`.
  EXPECT_EQ(Body(Call("POST", "/api/v1/patches/" + id + "/classification", eve,
                      R"({"priority":"P9","justification":"x"})"))["error"]["field"],
            "priority");
  ApiResponse classified = Call("POST", "/api/v1/patches/" + id + "/classification", eve,
                                R"({"priority":"P2","justification":"not reachable here"})");
  ASSERT_EQ(classified.status, 200) << classified.Text();
  EXPECT_EQ(Body(classified)["classification"], "P2");
  EXPECT_EQ(Body(classified)["override"]["by"], "eve");

  // A CR for it: the fields of `cr create`, plans as text; the requester is the token's person.
  EXPECT_EQ(Body(Call("POST", "/api/v1/crs", eve,
                      R"({"patch":")" + id +
                          R"(","system":"billing","type":"cosmetic"})"))["error"]["field"],
            "type");
  EXPECT_EQ(Body(Call("POST", "/api/v1/crs", eve,
                      R"({"patch":")" + id +
                          R"(","system":"billing","downtime":"soon"})"))["error"]["field"],
            "downtime");
  ApiResponse unknown =
      Call("POST", "/api/v1/crs", eve, R"({"patch":"PATCH-99","system":"billing"})");
  EXPECT_EQ(unknown.status, 404) << unknown.Text();
  EXPECT_EQ(Body(unknown)["error"]["field"], "patch");
  ApiResponse no_system =
      Call("POST", "/api/v1/crs", eve, R"({"patch":")" + id + R"(","system":"nosuch"})");
  EXPECT_EQ(no_system.status, 404) << no_system.Text();
  EXPECT_EQ(Body(no_system)["error"]["field"], "system");
  EXPECT_EQ(
      Call("POST", "/api/v1/crs", hal, R"({"patch":")" + id + R"(","system":"billing"})").status,
      403);
  ApiResponse cr = Call("POST", "/api/v1/crs", eve,
                        R"({"patch":")" + id + R"(","system":"billing","type":"security",
                            "description":"fixes the overflow","risk":"low",
                            "implementation_plan":"1. stop\n2. install\n3. start",
                            "rollback_plan":"restore the backup","downtime":"15m",
                            "duration":"1h","rollback_complexity":"low"})");
  ASSERT_EQ(cr.status, 201) << cr.Text();
  json c = Body(cr);
  EXPECT_EQ(c["id"], "CR-2");
  EXPECT_EQ(c["requester"], "eve");
  EXPECT_EQ(c["state"], "draft");
  EXPECT_EQ(c["patch_id"], id);
  auto events = store_->AuditEventsFor("CR-2");
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->back().actor, "eve");
}

TEST_F(ApiTest, DocumentsAreAttachedAsTextOrBase64) {
  std::string eve = TokenFor("eve");
  int before = AuditCount();
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"kind":"release-notes","file_name":"notes.txt"})", "content"},
           {R"({"kind":"release-notes","file_name":"n.txt","content":"a","content_base64":"YQ=="})",
            "content"},
           {R"({"kind":"release-notes","file_name":"n.txt","content_base64":"not base64!"})",
            "content_base64"},
       }) {
    ApiResponse refused = Call("POST", "/api/v1/crs/CR-1/attachments", eve, body);
    EXPECT_EQ(refused.status, 400) << body;
    EXPECT_EQ(Body(refused)["error"]["field"], field) << body;
  }
  for (const char* name : {"../etc/passwd", "a\nb", ""}) {
    json body = {{"kind", "release-notes"}, {"file_name", name}, {"content", "x"}};
    EXPECT_EQ(Call("POST", "/api/v1/crs/CR-1/attachments", eve, body.dump()).status, 400) << name;
  }
  EXPECT_EQ(Call("POST", "/api/v1/crs/CR-1/attachments", eve,
                 R"({"kind":"release-notes","file_name":"n.txt","content":""})")
                .status,
            400);
  EXPECT_EQ(AuditCount(), before);

  ApiResponse text = Call("POST", "/api/v1/crs/CR-1/attachments", eve,
                          R"({"kind":"release-notes","file_name":"notes.txt","content":"2.4.1"})");
  ASSERT_EQ(text.status, 201) << text.Text();
  std::string binary("\x00\xff\x10 bytes", 9);
  json upload = {{"kind", "test-specification"},
                 {"file_name", "spec.pdf"},
                 {"content_base64", EncodeBase64(binary)}};
  ApiResponse bytes = Call("POST", "/api/v1/crs/CR-1/attachments", eve, upload.dump());
  ASSERT_EQ(bytes.status, 201) << bytes.Text();
  json attachments = Body(bytes)["attachments"];
  ASSERT_EQ(attachments.size(), 2u) << bytes.Text();
  EXPECT_EQ(attachments[0]["file_name"], "notes.txt");
  EXPECT_EQ(attachments[0]["sha256"], Sha256Hex("2.4.1"));
  EXPECT_EQ(attachments[1]["sha256"], Sha256Hex(binary));
  EXPECT_EQ(attachments[1]["size"], 9);
}

TEST_F(ApiTest, ScheduleAndDecisionsAreTheCommandsOverHttp) {
  std::string eve = TokenFor("eve"), hal = TokenFor("hal");
  std::string at = FormatRfc3339Utc(clock_.Now() + std::chrono::hours(3));
  EXPECT_EQ(Body(Call("POST", "/api/v1/crs/CR-1/schedule", eve,
                      R"({"environment":"DEV","at":"tomorrow-ish"})"))["error"]["field"],
            "at");
  EXPECT_EQ(Call("POST", "/api/v1/crs/CR-1/schedule", eve,
                 R"({"environment":"NOPE","at":")" + at + R"("})")
                .status,
            404);
  EXPECT_EQ(Call("POST", "/api/v1/crs/CR-1/schedule", hal,
                 R"({"environment":"DEV","at":")" + at + R"("})")
                .status,
            403);
  ApiResponse scheduled = Call("POST", "/api/v1/crs/CR-1/schedule", eve,
                               R"({"environment":"DEV","at":")" + at + R"("})");
  ASSERT_EQ(scheduled.status, 200) << scheduled.Text();
  json s = Body(scheduled);
  EXPECT_TRUE(s["conflicts"].is_array());
  EXPECT_TRUE(s["advance_notices"].is_array());
  EXPECT_NE(scheduled.Text().find(at), std::string::npos) << scheduled.Text();

  // Decisions need the server's executor.
  EXPECT_EQ(Call("POST", "/api/v1/crs/CR-1/decisions", eve,
                 R"({"environment":"PROD","decision":"continue"})")
                .status,
            503);
  FakeRuns runs(*store_);
  api_ = std::make_unique<Api>(
      config_, [this]() -> Result<Store*> { return store_.get(); }, clock_, zone_, metrics_, &runs);
  EXPECT_EQ(Body(Call("POST", "/api/v1/crs/CR-1/decisions", eve,
                      R"({"environment":"PROD","decision":"maybe"})"))["error"]["field"],
            "decision");
  EXPECT_EQ(Call("POST", "/api/v1/crs/CR-1/decisions", hal,
                 R"({"environment":"PROD","decision":"continue"})")
                .status,
            403);
  EXPECT_TRUE(runs.calls.empty());
  ApiResponse go_on = Call("POST", "/api/v1/crs/CR-1/decisions", eve,
                           R"({"environment":"PROD","decision":"continue","reason":"noise"})");
  ASSERT_EQ(go_on.status, 200) << go_on.Text();
  EXPECT_EQ(Body(go_on)["id"], "CR-1");
  ApiResponse back = Call("POST", "/api/v1/crs/CR-1/decisions", eve,
                          R"({"environment":"PROD","decision":"rollback","reason":"errors"})");
  ASSERT_EQ(back.status, 202) << back.Text();
  EXPECT_EQ(Body(back)["id"], "RUN-1");
  EXPECT_EQ(runs.calls, (std::vector<std::string>{"decide CR-1 PROD continue noise eve",
                                                  "decide CR-1 PROD rollback errors eve"}));
}

TEST_F(ApiTest, AdvisoriesAreImportedFromTheBody) {
  std::string eve = TokenFor("eve"), hal = TokenFor("hal");
  const std::string osv =
      R"({"id":"OSV-2026-7","modified":"2026-01-01T00:00:00Z","summary":"libfoo overflow",
          "aliases":["CVE-2026-7777"]})";
  EXPECT_EQ(Call("POST", "/api/v1/advisories", hal, osv).status, 403);
  EXPECT_EQ(
      Call("POST", "/api/v1/advisories", eve, osv, {}, {{"content-type", "text/plain"}}).status,
      400);
  ApiResponse broken = Call("POST", "/api/v1/advisories", eve, R"({"id": 7})");
  EXPECT_EQ(broken.status, 400) << broken.Text();
  EXPECT_EQ(Call("GET", "/api/v1/advisories", eve).status, 405);

  ApiResponse imported = Call("POST", "/api/v1/advisories", eve, osv);
  ASSERT_EQ(imported.status, 201) << imported.Text();
  json patch = Body(imported);
  EXPECT_EQ(patch["created_by"], "eve");
  EXPECT_EQ(patch["cves"], json::array({"CVE-2026-7777"}));
  EXPECT_EQ(patch["triggers"], json::array());
  EXPECT_EQ(patch["responses"], json::array());
  EXPECT_EQ(Call("GET", "/api/v1/patches/" + patch["id"].get<std::string>(), eve).status, 200);
}

TEST_F(ApiTest, ARunIsRenderedOncePerChangeOfTheStore) {
  std::string eve = TokenFor("eve");
  rollgate::Run run;
  run.id = "RUN-1";
  run.system = "billing";
  run.state = RunState::kRunning;
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutRun(run); }).ok());
  ApiResponse first = Call("GET", "/api/v1/runs/RUN-1", eve);
  ASSERT_EQ(first.status, 200) << first.Text();
  ApiResponse again = Call("GET", "/api/v1/runs/RUN-1", eve);
  EXPECT_EQ(again.Text(), first.Text());
  EXPECT_EQ(Header(again, "ETag"), Header(first, "ETag"));
  EXPECT_EQ(Header(first, "ETag"), EtagOf(first.Text()));
  // A change through another connection (a run executing elsewhere) shows at once.
  {
    auto other = OpenSqliteStore(dir_ / "state.db");
    ASSERT_TRUE(other.ok());
    run.state = RunState::kSucceeded;
    ASSERT_TRUE((*other)->Write([&](Transaction& tx) { return tx.PutRun(run); }).ok());
  }
  ApiResponse changed = Call("GET", "/api/v1/runs/RUN-1", eve);
  EXPECT_EQ(Body(changed)["state"], "succeeded") << changed.Text();
  EXPECT_NE(Header(changed, "ETag"), Header(first, "ETag"));
  EXPECT_EQ(Header(changed, "ETag"), EtagOf(changed.Text()));
  // And through this one.
  run.state = RunState::kFailed;
  ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutRun(run); }).ok());
  EXPECT_EQ(Body(Call("GET", "/api/v1/runs/RUN-1", eve))["state"], "failed");
  EXPECT_EQ(Body(Call("GET", "/api/v1/runs/RUN-1/events", eve))["state"], "failed");
}

}  // namespace
}  // namespace rollgate::server
