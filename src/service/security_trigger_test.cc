#include "service/security_trigger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "domain/cr_lifecycle.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::filesystem::path MakeTempDirectory() {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("rollgate-security-trigger-" + std::to_string(::getpid()) + "-" +
                                std::to_string(steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(path);
  return path;
}

class SecurityTriggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = MakeTempDirectory();
    auto store = OpenSqliteStore(directory_ / "state.db");
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
    config_.systems.front().advisory_names = {"billing", "Northwind Billing"};
    Patch deployed = testing::SamplePatch(5.0);
    deployed.version = "1.9.2";
    ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutPatch(deployed); }).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(directory_);
  }

  // CR-`number` on billing, in progress, with a deployment of `version` in each of `envs`.
  void StoreChangeRequest(int number, const std::string& version,
                          const std::vector<std::string>& envs, bool passed = true,
                          CrState state = CrState::kInProgress) {
    ChangeRequest cr = testing::SampleChangeRequest(config_, testing::SamplePatch(5.0));
    cr.number = number;
    cr.id = CrId(number);
    cr.state = state;
    for (const std::string& env : envs) {
      Evidence e;
      e.environment = env;
      e.kind = kEvidenceDeployment;
      e.passed = passed;
      e.fields = {{"run", "RUN-" + env}, {"version", version}};
      e.run_id = "RUN-" + env;
      e.recorded_by = "eve";
      e.at = clock_.Now() - hours(1);
      cr.evidence.push_back(e);
    }
    ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutChangeRequest(cr); }).ok());
  }

  void AddEvidence(const std::string& cr_id, Evidence e) {
    ASSERT_TRUE(store_
                    ->Write([&](Transaction& tx) -> Status {
                      ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(cr_id));
                      cr.evidence.push_back(std::move(e));
                      return tx.PutChangeRequest(cr);
                    })
                    .ok());
  }

  // An imported OSV advisory for billing: 1.0.0 <= v < 1.10.0, scored `cvss`.
  Patch Advisory(double cvss, std::string id = "OSV-2026-77") {
    Patch p;
    p.id = "PATCH-9";
    p.advisory_format = "osv";
    p.advisory_id = std::move(id);
    p.cvss = {{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", cvss, "Critical"}};
    AffectedPackage package;
    package.name = "billing";
    package.ecosystem = "PyPI";
    package.ranges = {{"ECOSYSTEM", {"1.0.0"}, {"1.10.0"}, {}}};
    p.affected = {package};
    return p;
  }

  Result<std::vector<SecurityTriggerFiring>> Fire(const Patch& advisory) {
    return RecordSecurityTriggers(config_, *store_, clock_, advisory, "sam");
  }

  ChangeRequest Get(const std::string& id) {
    ChangeRequest cr;
    EXPECT_TRUE(store_
                    ->Read([&](Transaction& tx) -> Status {
                      ASSIGN_OR_RETURN(cr, tx.GetChangeRequest(id));
                      return Status::Ok();
                    })
                    .ok());
    return cr;
  }

  std::vector<const Evidence*> Triggers(const ChangeRequest& cr) {
    std::vector<const Evidence*> out;
    for (const Evidence& e : cr.evidence) {
      if (e.kind == kEvidenceTrigger) out.push_back(&e);
    }
    return out;
  }

  int AuditCount() {
    int count = 0;
    EXPECT_TRUE(store_
                    ->ForEachAuditEvent([&](const AuditEvent& event) {
                      count += event.action == "cr.evidence";
                      return Status::Ok();
                    })
                    .ok());
    return count;
  }

  std::filesystem::path directory_;
  std::unique_ptr<Store> store_;
  Config config_ = testing::SampleConfig();
  testing::FakeClock clock_{sys_days(2026y / December / 2) + hours(9)};
};

TEST_F(SecurityTriggerTest, RecordsATriggerOnEveryEnvironmentRunningAnAffectedVersion) {
  StoreChangeRequest(1, "1.9.2", {"DEV", "TEST", "PROD"});
  auto firings = Fire(Advisory(9.8));
  ASSERT_TRUE(firings.ok()) << firings.error().ToString();
  ASSERT_THAT(*firings, SizeIs(3));
  const SecurityTriggerFiring& prod = firings->at(2);
  EXPECT_EQ(prod.change_request, "CR-1");
  EXPECT_EQ(prod.environment, "PROD");
  EXPECT_EQ(prod.system, "billing");
  EXPECT_EQ(prod.version, "1.9.2");
  EXPECT_EQ(prod.firing.kind, TriggerKind::kSecurity);
  EXPECT_EQ(prod.firing.action, TriggerAction::kRollback);
  EXPECT_EQ(prod.firing.measurement, 9.8);
  EXPECT_EQ(prod.firing.threshold, 7.0);
  EXPECT_EQ(prod.firing.source, "advisory OSV-2026-77");
  EXPECT_EQ(prod.firing.at, clock_.Now());

  ChangeRequest cr = Get("CR-1");
  auto triggers = Triggers(cr);
  ASSERT_THAT(triggers, SizeIs(3));
  const Evidence& e = *triggers[2];
  EXPECT_EQ(e.environment, "PROD");
  EXPECT_EQ(e.run_id, "RUN-PROD");
  EXPECT_EQ(e.recorded_by, "sam");
  EXPECT_EQ(e.passed, false);
  EXPECT_EQ(e.fields.at("version"), "1.9.2");
  EXPECT_EQ(e.fields.at("system"), "billing");
  EXPECT_EQ(e.fields.at("patch"), "PATCH-9");
  EXPECT_THAT(e.detail, HasSubstr("advisory OSV-2026-77 (CVSS 9.8) affects the deployed version "
                                  "1.9.2 of billing"));
  auto back = TriggerFromEvidence(e);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, prod.firing);
  EXPECT_EQ(AuditCount(), 3);
}

TEST_F(SecurityTriggerTest, UnaffectedFixedAndLowScoresFireNothing) {
  StoreChangeRequest(1, "1.10.0", {"PROD"});  // the fixed version
  StoreChangeRequest(2, "0.9", {"PROD"});     // before the range
  auto firings = Fire(Advisory(9.8));
  ASSERT_TRUE(firings.ok());
  EXPECT_THAT(*firings, IsEmpty());

  StoreChangeRequest(3, "1.9.2", {"PROD"});
  firings = Fire(Advisory(6.9));  // below 7.0
  ASSERT_TRUE(firings.ok());
  EXPECT_THAT(*firings, IsEmpty());
  EXPECT_THAT(Triggers(Get("CR-3")), IsEmpty());
  EXPECT_EQ(AuditCount(), 0);

  firings = Fire(Advisory(7.0));  // at the threshold
  ASSERT_TRUE(firings.ok());
  ASSERT_THAT(*firings, SizeIs(1));
  EXPECT_EQ(firings->at(0).change_request, "CR-3");
}

TEST_F(SecurityTriggerTest, TheEnvironmentsThresholdAndPolicyApply) {
  config_.environments.at(2).thresholds.rollback_security_cvss = 9.0;  // PROD
  config_.systems.front().triggers["TEST"] = {
      {TriggerKind::kSecurity, TriggerAction::kOff, minutes(30), DecisionDefault::kRollback}};
  config_.systems.front().triggers["DEV"] = {
      {TriggerKind::kSecurity, TriggerAction::kEvaluate, minutes(30), DecisionDefault::kRollback}};
  StoreChangeRequest(1, "1.9.2", {"DEV", "TEST", "PROD"});
  auto firings = Fire(Advisory(8.1));
  ASSERT_TRUE(firings.ok());
  ASSERT_THAT(*firings, SizeIs(1));
  EXPECT_EQ(firings->at(0).environment, "DEV");
  EXPECT_EQ(firings->at(0).firing.action, TriggerAction::kEvaluate);
}

TEST_F(SecurityTriggerTest, OnlyTheLatestSuccessfulDeploymentCounts) {
  StoreChangeRequest(1, "1.9.2", {"PROD"}, /*passed=*/false);
  StoreChangeRequest(2, "1.9.2", {"PROD"});
  Evidence rollback;
  rollback.environment = "PROD";
  rollback.kind = kEvidenceRollback;
  rollback.passed = true;
  rollback.recorded_by = "eve";
  AddEvidence("CR-2", rollback);  // rolled back since: nothing affected runs there
  StoreChangeRequest(3, "1.9.2", {"PROD"});
  Evidence newer;
  newer.environment = "PROD";
  newer.kind = kEvidenceDeployment;
  newer.passed = true;
  newer.fields = {{"version", "1.10.1"}};
  AddEvidence("CR-3", newer);           // a later deployment of a fixed version
  StoreChangeRequest(4, "", {"PROD"});  // no version recorded: cannot judge
  StoreChangeRequest(5, "1.9.2", {"PROD"}, true, CrState::kClosed);  // final: takes no evidence
  auto firings = Fire(Advisory(9.8));
  ASSERT_TRUE(firings.ok()) << firings.error().ToString();
  EXPECT_THAT(*firings, IsEmpty());
}

TEST_F(SecurityTriggerTest, MatchesUnderTheSystemsAdvisoryNames) {
  StoreChangeRequest(1, "5.2.0", {"PROD"});
  Patch csaf = Advisory(9.1, "NW-2026-004");
  csaf.advisory_format = "csaf";
  AffectedPackage product;
  product.name = "Northwind Billing 5.2.0";
  product.version = "5.2.0";
  csaf.affected = {product};
  auto firings = Fire(csaf);
  ASSERT_TRUE(firings.ok());
  ASSERT_THAT(*firings, SizeIs(1));
  EXPECT_EQ(firings->at(0).firing.source, "advisory NW-2026-004");

  config_.systems.front().advisory_names = {"billing"};
  StoreChangeRequest(2, "5.2.0", {"PROD"});
  firings = Fire(csaf);
  ASSERT_TRUE(firings.ok());
  EXPECT_THAT(*firings, IsEmpty());
}

TEST_F(SecurityTriggerTest, ImportingTheSameAdvisoryAgainRecordsNothingNew) {
  StoreChangeRequest(1, "1.9.2", {"PROD"});
  ASSERT_THAT(Fire(Advisory(9.8)).value(), SizeIs(1));
  EXPECT_THAT(Fire(Advisory(9.8)).value(), IsEmpty());
  EXPECT_THAT(Triggers(Get("CR-1")), SizeIs(1));
  // Another advisory against the same version is news.
  EXPECT_THAT(Fire(Advisory(9.8, "OSV-2026-78")).value(), SizeIs(1));
  EXPECT_EQ(AuditCount(), 2);
}

TEST_F(SecurityTriggerTest, PatchesThatAreNotAdvisoriesFireNothing) {
  StoreChangeRequest(1, "1.9.2", {"PROD"});
  Patch no_id = Advisory(9.8);
  no_id.advisory_id.clear();
  Patch no_score = Advisory(9.8);
  no_score.cvss.clear();
  Patch no_products = Advisory(9.8);
  no_products.affected.clear();
  for (const Patch& p : {no_id, no_score, no_products}) {
    auto firings = Fire(p);
    ASSERT_TRUE(firings.ok());
    EXPECT_THAT(*firings, IsEmpty());
  }
  EXPECT_EQ(AuditCount(), 0);
}

}  // namespace
}  // namespace rollgate
