#include "domain/triggers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::SampleConfig;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const Timestamp kAt = sys_days(2026y / November / 30) + hours(10);

class TriggersTest : public ::testing::Test {
 protected:
  const Environment& Env(std::string_view name) { return *config_.FindEnvironment(name); }
  std::vector<TriggerPolicy> Defaults(std::string_view env) {
    return DefaultTriggerPolicies(config_, Env(env));
  }
  std::vector<TriggerFiring> Evaluate(const Measurements& m, std::string_view env = "PROD") {
    return EvaluateMeasurements(m, Defaults(env), thresholds_);
  }
  Measurements On(std::string host) {
    Measurements m;
    m.host = std::move(host);
    m.source = "watch";
    m.at = kAt;
    return m;
  }

  Config config_ = SampleConfig();
  Thresholds thresholds_;
};

// --- names

TEST_F(TriggersTest, EveryKindNameRoundTrips) {
  std::vector<std::string> names;
  for (TriggerKind kind : AllTriggerKinds()) {
    names.emplace_back(TriggerKindName(kind));
    auto back = ParseTriggerKind(TriggerKindName(kind));
    ASSERT_TRUE(back.ok()) << back.error().ToString();
    EXPECT_EQ(*back, kind);
  }
  EXPECT_THAT(names,
              ElementsAre("deployment-failed", "health", "smoke", "availability", "users-affected",
                          "response-time", "data-integrity", "security", "critical-alerts"));
}

TEST_F(TriggersTest, BadNamesAreRejectedWithTheKnownOnes) {
  auto kind = ParseTriggerKind("availabilty");
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(kind.error().message(), HasSubstr("unknown trigger 'availabilty'"));
  EXPECT_THAT(kind.error().message(), HasSubstr("did you mean 'availability'"));
  EXPECT_THAT(kind.error().message(), HasSubstr("users-affected"));

  auto action = ParseTriggerAction("rollbak");
  ASSERT_FALSE(action.ok());
  EXPECT_THAT(action.error().message(), HasSubstr("unknown trigger action 'rollbak'"));
  EXPECT_THAT(action.error().message(), HasSubstr("rollback, evaluate, off"));
  EXPECT_FALSE(ParseTriggerAction("").ok());
  EXPECT_FALSE(ParseTriggerAction("Rollback").ok());

  auto decision = ParseDecisionDefault("proceed");
  ASSERT_FALSE(decision.ok());
  EXPECT_THAT(decision.error().message(), HasSubstr("rollback, continue"));
  EXPECT_FALSE(ParseTriggerKind("health\n").ok());
}

TEST_F(TriggersTest, ActionAndDecisionNamesRoundTrip) {
  for (TriggerAction a :
       {TriggerAction::kRollback, TriggerAction::kEvaluate, TriggerAction::kOff}) {
    EXPECT_EQ(ParseTriggerAction(TriggerActionName(a)).value(), a);
  }
  EXPECT_EQ(ParseDecisionDefault("rollback").value(), DecisionDefault::kRollback);
  EXPECT_EQ(ParseDecisionDefault("continue").value(), DecisionDefault::kContinue);
  EXPECT_EQ(DecisionDefaultName(DecisionDefault::kContinue), "continue");
}

// --- policies

TEST_F(TriggersTest, DefaultsFollowThePlaybookTable) {
  for (std::string_view env : {"DEV", "TEST", "PROD"}) {
    auto policies = Defaults(env);
    ASSERT_THAT(policies, SizeIs(AllTriggerKinds().size())) << env;
    for (TriggerKind kind :
         {TriggerKind::kDeploymentFailed, TriggerKind::kHealth, TriggerKind::kAvailability,
          TriggerKind::kUsersAffected, TriggerKind::kDataIntegrity, TriggerKind::kSecurity}) {
      EXPECT_EQ(FindPolicy(policies, kind)->action, TriggerAction::kRollback)
          << env << " " << TriggerKindName(kind);
    }
    const TriggerPolicy* response = FindPolicy(policies, TriggerKind::kResponseTime);
    EXPECT_EQ(response->action, TriggerAction::kEvaluate);
    EXPECT_EQ(response->on_deadline, DecisionDefault::kContinue);
    EXPECT_EQ(response->decision_deadline, minutes(30));
  }
  std::vector<TriggerPolicy> dev = Defaults("DEV"), test = Defaults("TEST");
  EXPECT_EQ(FindPolicy(dev, TriggerKind::kSmoke)->action, TriggerAction::kRollback);
  EXPECT_EQ(FindPolicy(test, TriggerKind::kSmoke)->action, TriggerAction::kRollback);
  std::vector<TriggerPolicy> prod = Defaults("PROD");
  const TriggerPolicy* prod_smoke = FindPolicy(prod, TriggerKind::kSmoke);
  EXPECT_EQ(prod_smoke->action, TriggerAction::kEvaluate);
  EXPECT_EQ(prod_smoke->on_deadline, DecisionDefault::kRollback);
}

TEST_F(TriggersTest, TheLastEnvironmentIsTheOneWithTheHighestOrder) {
  // A fourth environment after PROD takes over "the last one"; listing order does not matter.
  Environment dr;
  dr.name = "DR";
  dr.order = 3;
  config_.environments.insert(config_.environments.begin(), dr);
  std::vector<TriggerPolicy> prod = Defaults("PROD"), disaster_recovery = Defaults("DR");
  EXPECT_EQ(FindPolicy(prod, TriggerKind::kSmoke)->action, TriggerAction::kRollback);
  EXPECT_EQ(FindPolicy(disaster_recovery, TriggerKind::kSmoke)->action, TriggerAction::kEvaluate);
}

TEST_F(TriggersTest, OverridesApplyEnvironmentThenSystem) {
  Environment& prod = config_.environments.at(2);
  ASSERT_EQ(prod.name, "PROD");
  TriggerPolicy env_health{TriggerKind::kHealth, TriggerAction::kEvaluate, minutes(10),
                           DecisionDefault::kContinue};
  TriggerPolicy env_security{TriggerKind::kSecurity, TriggerAction::kOff, minutes(30),
                             DecisionDefault::kRollback};
  prod.triggers = {env_health, env_security};
  System system = config_.systems.front();
  TriggerPolicy system_health{TriggerKind::kHealth, TriggerAction::kRollback, minutes(5),
                              DecisionDefault::kRollback};
  system.triggers["PROD"] = {system_health};
  system.triggers["TEST"] = {env_security};

  auto prod_policies = TriggerPoliciesFor(config_, system, prod);
  EXPECT_EQ(*FindPolicy(prod_policies, TriggerKind::kHealth), system_health);  // system wins
  EXPECT_EQ(*FindPolicy(prod_policies, TriggerKind::kSecurity), env_security);
  EXPECT_EQ(FindPolicy(prod_policies, TriggerKind::kSmoke)->action, TriggerAction::kEvaluate);
  EXPECT_THAT(prod_policies, SizeIs(AllTriggerKinds().size()));

  auto test_policies = TriggerPoliciesFor(config_, system, Env("TEST"));
  EXPECT_EQ(FindPolicy(test_policies, TriggerKind::kSecurity)->action, TriggerAction::kOff);
  EXPECT_EQ(FindPolicy(test_policies, TriggerKind::kHealth)->action, TriggerAction::kRollback);

  // Without the system's overrides: the environment's.
  System plain = config_.systems.front();
  std::vector<TriggerPolicy> plain_policies = TriggerPoliciesFor(config_, plain, prod);
  EXPECT_EQ(*FindPolicy(plain_policies, TriggerKind::kHealth), env_health);
  std::vector<TriggerPolicy> none;
  EXPECT_EQ(FindPolicy(none, TriggerKind::kHealth), nullptr);
}

// --- measurements at, just below and just above their thresholds

TEST_F(TriggersTest, AvailabilityBelowTheMinimumFires) {
  Measurements m = On("host3");
  m.availability_percent = 97.0;
  auto firings = Evaluate(m);
  ASSERT_THAT(firings, SizeIs(1));
  const TriggerFiring& f = firings[0];
  EXPECT_EQ(f.kind, TriggerKind::kAvailability);
  EXPECT_EQ(f.action, TriggerAction::kRollback);
  EXPECT_EQ(f.measurement, 97.0);
  EXPECT_EQ(f.threshold, 99.5);
  EXPECT_EQ(f.unit, "%");
  EXPECT_EQ(f.host, "host3");
  EXPECT_EQ(f.source, "watch");
  EXPECT_EQ(f.at, kAt);
  EXPECT_EQ(f.detail, "availability 97.0 % over 10m on host3, below 99.5 %");

  m.availability_percent = 99.49;
  EXPECT_THAT(Evaluate(m), SizeIs(1));
  m.availability_percent = 99.5;
  EXPECT_THAT(Evaluate(m), IsEmpty());
  m.availability_percent = 99.51;
  EXPECT_THAT(Evaluate(m), IsEmpty());
}

TEST_F(TriggersTest, ErrorShareAtOrAboveTheMaximumFires) {
  Measurements m = On("");
  m.source = "prometheus";
  m.error_percent = 5.0;
  auto firings = Evaluate(m);
  ASSERT_THAT(firings, SizeIs(1));
  EXPECT_EQ(firings[0].kind, TriggerKind::kUsersAffected);
  EXPECT_EQ(firings[0].action, TriggerAction::kRollback);
  EXPECT_EQ(firings[0].detail, "5.0 % of requests answered with an error, at or above 5.0 %");
  m.error_percent = 5.01;
  EXPECT_THAT(Evaluate(m), SizeIs(1));
  m.error_percent = 4.99;
  EXPECT_THAT(Evaluate(m), IsEmpty());
  m.error_percent = 0;
  EXPECT_THAT(Evaluate(m), IsEmpty());
}

TEST_F(TriggersTest, DegradationAboveTheMaximumFiresAsEvaluate) {
  Measurements m = On("app1");
  m.degradation_percent = 20.0;
  EXPECT_THAT(Evaluate(m), IsEmpty());
  m.degradation_percent = 19.9;
  EXPECT_THAT(Evaluate(m), IsEmpty());
  m.degradation_percent = 20.01;
  auto firings = Evaluate(m);
  ASSERT_THAT(firings, SizeIs(1));
  EXPECT_EQ(firings[0].kind, TriggerKind::kResponseTime);
  EXPECT_EQ(firings[0].action, TriggerAction::kEvaluate);
  EXPECT_EQ(firings[0].threshold, 20.0);
  EXPECT_EQ(firings[0].detail,
            "median response time 20.01 % slower than before the deployment on app1, more than "
            "20.0 %");
}

TEST_F(TriggersTest, PassFailMeasurementsFireOnlyOnFailure) {
  Measurements m = On("app2");
  m.health_ok = true;
  m.smoke_ok = true;
  m.data_integrity_ok = true;
  EXPECT_THAT(Evaluate(m), IsEmpty());

  m.health_ok = false;
  m.smoke_ok = false;
  m.data_integrity_ok = false;
  m.data_integrity_detail = "orders has 10 rows fewer than before";
  auto firings = Evaluate(m, "PROD");
  ASSERT_THAT(firings, SizeIs(3));
  EXPECT_EQ(firings[0].kind, TriggerKind::kHealth);
  EXPECT_EQ(firings[0].measurement, 0);
  EXPECT_EQ(firings[0].threshold, 1);
  EXPECT_EQ(firings[0].unit, "");
  EXPECT_EQ(firings[0].detail, "the health or readiness endpoint failed on app2");
  EXPECT_EQ(firings[1].kind, TriggerKind::kSmoke);
  EXPECT_EQ(firings[1].action, TriggerAction::kEvaluate);  // PROD: evaluate + decide
  EXPECT_EQ(firings[1].detail, "the smoke test failed on app2");
  EXPECT_EQ(firings[2].kind, TriggerKind::kDataIntegrity);
  EXPECT_EQ(firings[2].detail,
            "the data-integrity check failed on app2: orders has 10 rows fewer than before");

  // The same smoke failure in TEST rolls back at once.
  auto test = Evaluate(m, "TEST");
  ASSERT_THAT(test, SizeIs(3));
  EXPECT_EQ(test[1].action, TriggerAction::kRollback);
}

TEST_F(TriggersTest, UnsetMeasurementsAreNotJudged) { EXPECT_THAT(Evaluate(On("h")), IsEmpty()); }

TEST_F(TriggersTest, ThresholdsComeFromTheEnvironment) {
  thresholds_.min_availability_percent = 95;
  thresholds_.availability_window = minutes(5);
  Measurements m = On("h");
  m.availability_percent = 96;
  EXPECT_THAT(Evaluate(m), IsEmpty());
  m.availability_percent = 94.5;
  auto firings = Evaluate(m);
  ASSERT_THAT(firings, SizeIs(1));
  EXPECT_EQ(firings[0].detail, "availability 94.5 % over 5m on h, below 95.0 %");
}

TEST_F(TriggersTest, OffPoliciesNeverFire) {
  std::vector<TriggerPolicy> off;
  for (TriggerKind kind : AllTriggerKinds()) {
    off.push_back({kind, TriggerAction::kOff, minutes(30), DecisionDefault::kRollback});
  }
  Measurements m = On("h");
  m.health_ok = false;
  m.smoke_ok = false;
  m.availability_percent = 0;
  m.error_percent = 100;
  m.degradation_percent = 500;
  m.data_integrity_ok = false;
  EXPECT_THAT(EvaluateMeasurements(m, off, thresholds_), IsEmpty());
  EXPECT_THAT(EvaluateMeasurements(m, {}, thresholds_), IsEmpty());  // no policy: nothing
  EXPECT_THAT(EvaluateMeasurements(m, Defaults("PROD"), thresholds_), SizeIs(6));

  AffectedPackage all;
  all.name = "billing";
  EXPECT_FALSE(
      EvaluateAdvisory(9.8, "ADV-1", {all}, {"billing"}, "1.0", off, thresholds_, kAt).has_value());
}

// --- StrongestAction

TEST_F(TriggersTest, StrongestActionPrefersRollbackThenEvaluate) {
  TriggerFiring evaluate;
  evaluate.action = TriggerAction::kEvaluate;
  TriggerFiring rollback;
  rollback.action = TriggerAction::kRollback;
  TriggerFiring off;
  off.action = TriggerAction::kOff;
  EXPECT_EQ(StrongestAction({}), TriggerAction::kOff);
  EXPECT_EQ(StrongestAction({off}), TriggerAction::kOff);
  EXPECT_EQ(StrongestAction({off, evaluate}), TriggerAction::kEvaluate);
  EXPECT_EQ(StrongestAction({evaluate, rollback, evaluate}), TriggerAction::kRollback);
  EXPECT_EQ(StrongestAction({rollback}), TriggerAction::kRollback);
}

// --- evidence

TEST_F(TriggersTest, TriggerEvidenceRoundTrips) {
  Measurements m = On("host3");
  m.availability_percent = 97.25;
  TriggerFiring firing = Evaluate(m).at(0);
  Evidence e = TriggerEvidence(firing, "PROD", "RUN-4");
  EXPECT_EQ(e.kind, kEvidenceTrigger);
  EXPECT_EQ(e.environment, "PROD");
  EXPECT_EQ(e.run_id, "RUN-4");
  EXPECT_EQ(e.passed, false);
  EXPECT_EQ(e.value, 97.25);
  EXPECT_EQ(e.detail, firing.detail);
  EXPECT_EQ(e.at, kAt);
  EXPECT_EQ(e.fields.at("kind"), "availability");
  EXPECT_EQ(e.fields.at("action"), "rollback");
  EXPECT_EQ(e.fields.at("measurement"), "97.25");
  EXPECT_EQ(e.fields.at("threshold"), "99.5");
  EXPECT_EQ(e.fields.at("unit"), "%");
  EXPECT_EQ(e.fields.at("host"), "host3");
  EXPECT_EQ(e.fields.at("source"), "watch");
  auto back = TriggerFromEvidence(e);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, firing);

  // Awkward numbers survive too.
  firing.measurement = 0.1 + 0.2;
  firing.threshold = 1e-7;
  auto again = TriggerFromEvidence(TriggerEvidence(firing, "PROD", ""));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, firing);
}

TEST_F(TriggersTest, TriggerFromEvidenceRefusesOtherEvidence) {
  Evidence smoke;
  smoke.kind = kEvidenceSmoke;
  auto not_trigger = TriggerFromEvidence(smoke);
  ASSERT_FALSE(not_trigger.ok());
  EXPECT_THAT(not_trigger.error().message(), HasSubstr("'smoke' is not a trigger"));

  TriggerFiring firing;
  Evidence e = TriggerEvidence(firing, "DEV", "");
  e.fields.erase("threshold");
  auto missing = TriggerFromEvidence(e);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message(), HasSubstr("'threshold' is missing"));

  e = TriggerEvidence(firing, "DEV", "");
  e.fields["measurement"] = "lots";
  EXPECT_THAT(TriggerFromEvidence(e).error().message(), HasSubstr("'measurement' is not a number"));
  e = TriggerEvidence(firing, "DEV", "");
  e.fields["kind"] = "bogus";
  EXPECT_THAT(TriggerFromEvidence(e).error().message(), HasSubstr("unknown trigger 'bogus'"));
}

// --- versions

TEST(CompareVersionsTest, ComparesComponentsNumerically) {
  EXPECT_GT(CompareVersions("1.10.0", "1.9.2"), 0);
  EXPECT_LT(CompareVersions("1.9.2", "1.10.0"), 0);
  EXPECT_EQ(CompareVersions("2.4.7", "2.4.7"), 0);
  EXPECT_EQ(CompareVersions("1.0", "1.0.0"), 0);
  EXPECT_EQ(CompareVersions("v1.2.3", "1.2.3"), 0);
  EXPECT_EQ(CompareVersions("01.2", "1.2"), 0);
  EXPECT_LT(CompareVersions("1.0.0-rc1", "1.0.0"), 0);
  EXPECT_LT(CompareVersions("1.0.0-alpha", "1.0.0-beta"), 0);
  EXPECT_LT(CompareVersions("1.0.0-rc1", "1.0.0-rc2"), 0);
  EXPECT_GT(CompareVersions("2.4.7-1", "2.4.7"), 0);
  EXPECT_GT(CompareVersions("2.4.7-1+deb12u1", "2.4.7-1"), 0);
  EXPECT_LT(CompareVersions("1.0~rc1", "1.0"), 0);
  EXPECT_GT(CompareVersions("1.0.1", "1.0"), 0);
  EXPECT_LT(CompareVersions("2.4.6-1", "2.4.7-1+deb12u1"), 0);
  EXPECT_GT(CompareVersions("2.4.7-1+deb12u2", "2.4.7-1+deb12u1"), 0);
  EXPECT_GT(CompareVersions("2.4.7-1+deb12u10", "2.4.7-1+deb12u9"), 0);
  EXPECT_GT(CompareVersions("1.2", "1.beta"), 0);
  // Numbers longer than any integer type.
  EXPECT_GT(CompareVersions("1.123456789012345678901234567890", "1.99999999999999999999999"), 0);
  EXPECT_EQ(CompareVersions("", ""), 0);
  EXPECT_LT(CompareVersions("", "1"), 0);
}

TEST(VersionRangeTest, IntroducedFixedAndLastAffected) {
  AffectedVersionRange r{"SEMVER", {"2.0.0"}, {"2.4.7"}, {}};
  EXPECT_FALSE(VersionInRange(r, "1.9.9"));
  EXPECT_TRUE(VersionInRange(r, "2.0.0"));
  EXPECT_TRUE(VersionInRange(r, "2.4.6"));
  EXPECT_TRUE(VersionInRange(r, "2.4.10-rc1") == false);  // after 2.4.7
  EXPECT_FALSE(VersionInRange(r, "2.4.7"));
  EXPECT_FALSE(VersionInRange(r, "2.10.0"));

  AffectedVersionRange from_start{"ECOSYSTEM", {"0"}, {"2.4.7-1+deb12u1"}, {}};
  EXPECT_TRUE(VersionInRange(from_start, "0.1"));
  EXPECT_TRUE(VersionInRange(from_start, "2.4.7-1"));
  EXPECT_FALSE(VersionInRange(from_start, "2.4.7-1+deb12u1"));

  AffectedVersionRange last{"SEMVER", {"3.0.0"}, {}, {"3.0.1"}};
  EXPECT_TRUE(VersionInRange(last, "3.0.1"));
  EXPECT_FALSE(VersionInRange(last, "3.0.2"));
  EXPECT_FALSE(VersionInRange(last, "2.9"));

  AffectedVersionRange open{"SEMVER", {"1.5"}, {}, {}};
  EXPECT_TRUE(VersionInRange(open, "99.0"));
  EXPECT_FALSE(VersionInRange(open, "1.4.9"));

  // Two introduced/fixed pairs in one range: the gap between them is not affected.
  AffectedVersionRange two{"SEMVER", {"1.0", "3.0"}, {"1.5", "3.2"}, {}};
  EXPECT_TRUE(VersionInRange(two, "1.2"));
  EXPECT_FALSE(VersionInRange(two, "2.0"));
  EXPECT_TRUE(VersionInRange(two, "3.1.9"));
  EXPECT_FALSE(VersionInRange(two, "3.2"));

  AffectedVersionRange git{"GIT", {"0"}, {"abc123"}, {}};
  EXPECT_FALSE(VersionInRange(git, "1.0"));
  EXPECT_FALSE(VersionInRange(r, ""));
}

TEST(VersionRangeTest, CsafVersRanges) {
  EXPECT_TRUE(VersionInVersRange("vers:semver/>=5.0.0|<5.2.1", "5.2.0"));
  EXPECT_FALSE(VersionInVersRange("vers:semver/>=5.0.0|<5.2.1", "5.2.1"));
  EXPECT_FALSE(VersionInVersRange("vers:semver/>=5.0.0|<5.2.1", "4.9.9"));
  EXPECT_TRUE(VersionInVersRange("<5.2.1", "5.10.0") == false);
  EXPECT_TRUE(VersionInVersRange("<=5.2.1", "5.2.1"));
  EXPECT_TRUE(VersionInVersRange("vers:generic/1.0|1.1", "1.1"));
  EXPECT_FALSE(VersionInVersRange("vers:generic/1.0|1.1", "1.2"));
  EXPECT_FALSE(VersionInVersRange("vers:generic/>=1.0|!=1.3", "1.3"));
  EXPECT_TRUE(VersionInVersRange("vers:generic/>=1.0|!=1.3", "1.4"));
  EXPECT_TRUE(VersionInVersRange("vers:generic/*", "7"));
  EXPECT_FALSE(VersionInVersRange("vers:generic", "7"));
  EXPECT_FALSE(VersionInVersRange(">=", "7"));
}

TEST(PackageAffectsTest, OsvPackagesByNameVersionsAndRanges) {
  AffectedPackage p;
  p.name = "invoicegen";
  p.ecosystem = "PyPI";
  p.versions = {"2.4.5-1"};
  p.ranges = {{"ECOSYSTEM", {"2.0.0"}, {"2.4.7"}, {}}, {"ECOSYSTEM", {"3.0.0"}, {"3.0.2"}, {}}};
  std::vector<std::string> names = {"InvoiceGen"};
  EXPECT_TRUE(PackageAffects(p, names, "2.4.5-1"));  // explicit list
  EXPECT_TRUE(PackageAffects(p, names, "2.4.6"));
  EXPECT_TRUE(PackageAffects(p, names, "3.0.1"));
  EXPECT_FALSE(PackageAffects(p, names, "2.4.7"));
  EXPECT_FALSE(PackageAffects(p, names, "2.5.0"));
  EXPECT_FALSE(PackageAffects(p, names, "1.9.9"));
  EXPECT_FALSE(PackageAffects(p, names, ""));
  EXPECT_FALSE(PackageAffects(p, {"billing"}, "2.4.6"));         // another product
  EXPECT_FALSE(PackageAffects(p, {"invoice"}, "2.4.6"));         // no partial names
  EXPECT_TRUE(PackageAffects(p, {"PyPI/invoicegen"}, "2.4.6"));  // ecosystem/name
  EXPECT_FALSE(PackageAffects(p, {"npm/invoicegen"}, "2.4.6"));
  EXPECT_FALSE(PackageAffects(p, {}, "2.4.6"));

  AffectedPackage explicit_only;
  explicit_only.name = "billing";
  explicit_only.versions = {"1.2.0", "1.2.1"};
  EXPECT_TRUE(PackageAffects(explicit_only, {"billing"}, "1.2.1"));
  EXPECT_FALSE(PackageAffects(explicit_only, {"billing"}, "1.2"));  // exact, not 1.2 == 1.2.0
  EXPECT_FALSE(PackageAffects(explicit_only, {"billing"}, "1.2.2"));

  AffectedPackage everything;
  everything.name = "billing";
  EXPECT_TRUE(PackageAffects(everything, {"billing"}, "0.0.1"));
}

TEST(PackageAffectsTest, CsafProductsByFullNameAndVersion) {
  AffectedPackage p;
  p.name = "Northwind Gateway 5.2.0";
  p.version = "5.2.0";
  p.fixed_versions = {"5.2.1"};
  std::vector<std::string> names = {"northwind gateway"};
  EXPECT_TRUE(PackageAffects(p, names, "5.2.0"));
  EXPECT_FALSE(PackageAffects(p, names, "5.2.1"));
  EXPECT_FALSE(PackageAffects(p, names, "5.2.0.1"));
  EXPECT_FALSE(PackageAffects(p, names, "5.2"));
  EXPECT_TRUE(PackageAffects(p, {"Northwind Gateway 5.2.0"}, "5.2.0"));
  EXPECT_FALSE(PackageAffects(p, {"Northwind Admin Console"}, "5.2.0"));

  // A full product name carrying the version, without a version branch.
  AffectedPackage flat;
  flat.name = "Northwind Gateway 4.9.7";
  EXPECT_TRUE(PackageAffects(flat, names, "4.9.7"));
  EXPECT_FALSE(PackageAffects(flat, names, "4.9.8"));

  AffectedPackage range;
  range.name = "Northwind Gateway vers:semver/<5.2.1";
  range.version = "vers:semver/<5.2.1";
  EXPECT_TRUE(PackageAffects(range, names, "5.1.9"));
  EXPECT_FALSE(PackageAffects(range, names, "5.2.1"));

  // A version listed as fixed never is affected, whatever else the entry says.
  AffectedPackage fixed;
  fixed.name = "billing";
  fixed.ranges = {{"SEMVER", {"0"}, {}, {}}};
  fixed.fixed_versions = {"2.0.0"};
  EXPECT_FALSE(PackageAffects(fixed, {"billing"}, "2.0.0"));
  EXPECT_TRUE(PackageAffects(fixed, {"billing"}, "2.0.1"));
}

TEST_F(TriggersTest, AdvisoryFiresAtTheCvssThresholdForAnAffectedVersion) {
  AffectedPackage p;
  p.name = "billing";
  p.ranges = {{"SEMVER", {"1.0.0"}, {"1.10.0"}, {}}};
  auto policies = Defaults("PROD");
  auto firing =
      EvaluateAdvisory(7.0, "OSV-2026-1", {p}, {"billing"}, "1.9.2", policies, thresholds_, kAt);
  ASSERT_TRUE(firing.has_value());
  EXPECT_EQ(firing->kind, TriggerKind::kSecurity);
  EXPECT_EQ(firing->action, TriggerAction::kRollback);
  EXPECT_EQ(firing->measurement, 7.0);
  EXPECT_EQ(firing->threshold, 7.0);
  EXPECT_EQ(firing->unit, "CVSS");
  EXPECT_EQ(firing->source, "advisory OSV-2026-1");
  EXPECT_EQ(firing->host, "");
  EXPECT_EQ(firing->at, kAt);
  EXPECT_EQ(firing->detail,
            "advisory OSV-2026-1 (CVSS 7.0) affects the deployed version 1.9.2 of billing, at or "
            "above CVSS 7.0");

  EXPECT_FALSE(
      EvaluateAdvisory(6.9, "OSV-2026-1", {p}, {"billing"}, "1.9.2", policies, thresholds_, kAt));
  EXPECT_TRUE(
      EvaluateAdvisory(9.8, "OSV-2026-1", {p}, {"billing"}, "1.9.2", policies, thresholds_, kAt));
  EXPECT_FALSE(EvaluateAdvisory(9.8, "OSV-2026-1", {p}, {"billing"}, "1.10.0", policies,
                                thresholds_, kAt));  // the fixed version
  EXPECT_FALSE(
      EvaluateAdvisory(9.8, "OSV-2026-1", {p}, {"payroll"}, "1.9.2", policies, thresholds_, kAt));
  EXPECT_FALSE(
      EvaluateAdvisory(9.8, "OSV-2026-1", {}, {"billing"}, "1.9.2", policies, thresholds_, kAt));

  thresholds_.rollback_security_cvss = 9.0;
  EXPECT_FALSE(
      EvaluateAdvisory(8.9, "OSV-2026-1", {p}, {"billing"}, "1.9.2", policies, thresholds_, kAt));
  // An evaluate policy reports itself so.
  for (auto& policy : policies) {
    if (policy.kind == TriggerKind::kSecurity) policy.action = TriggerAction::kEvaluate;
  }
  auto evaluate = EvaluateAdvisory(9.0, "X", {p}, {"billing"}, "1.0.0", policies, thresholds_, kAt);
  ASSERT_TRUE(evaluate.has_value());
  EXPECT_EQ(evaluate->action, TriggerAction::kEvaluate);
}

}  // namespace
}  // namespace rollgate
