#include "domain/checklists.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using rollgate::testing::SampleChangeRequest;
using rollgate::testing::SampleConfig;
using rollgate::testing::SamplePatch;
using ::testing::HasSubstr;

class ChecklistsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cr_ = SampleChangeRequest(config_, SamplePatch(7.5));
    cr_.state = CrState::kInProgress;
    cr_.submitted_at = now_;
  }

  void Record(std::string env, std::string kind, std::optional<bool> passed = true,
              std::optional<double> value = {}, std::map<std::string, std::string> fields = {}) {
    at_ += minutes(1);
    cr_.evidence.push_back(
        {std::move(env), std::move(kind), passed, value, "", std::move(fields), "eve", at_, ""});
  }

  ChecklistItem Item(std::string_view env, std::string_view section, std::string_view item) {
    items_ = ComputeChecklist(cr_, config_, env, now_, utc_);
    for (const auto& i : items_) {
      if (i.section == section && i.item == item) return i;
    }
    ADD_FAILURE() << "no item " << section << " / " << item;
    return {};
  }

  std::set<std::string> Sections(std::string_view env) {
    std::set<std::string> sections;
    for (const auto& i : ComputeChecklist(cr_, config_, env, now_, utc_))
      sections.insert(i.section);
    return sections;
  }

  Config config_ = SampleConfig();
  Timestamp now_ = MondayMorning();
  Timestamp at_ = MondayMorning();
  FixedOffsetZone utc_{Seconds(0)};
  ChangeRequest cr_;
  std::vector<ChecklistItem> items_;
};

TEST_F(ChecklistsTest, SectionsDependOnRollbackAndEmergency) {
  EXPECT_THAT(Sections("PROD"),
              ::testing::ElementsAre(
                  "8.1 Pre-Deployment / Environment-Specific", "8.1 Pre-Deployment / General",
                  "8.1 Pre-Deployment / Notification", "8.2 Post-Deployment / Communication",
                  "8.2 Post-Deployment / Documentation", "8.2 Post-Deployment / Monitoring",
                  "8.2 Post-Deployment / Validation"));
  EXPECT_EQ(ComputeChecklist(cr_, config_, "PROD", now_, utc_).size(), 24u);
  Record("PROD", kEvidenceRollback);
  cr_.emergency = true;
  EXPECT_EQ(ComputeChecklist(cr_, config_, "PROD", now_, utc_).size(), 24u + 16u + 11u);
  EXPECT_TRUE(ComputeChecklist(cr_, config_, "STAGING", now_, utc_).empty());
}

TEST_F(ChecklistsTest, NothingRecordedNothingDoneExceptWhatIsNotRequired) {
  for (const auto& i : ComputeChecklist(cr_, config_, "PROD", now_, utc_)) {
    if (i.item == "Rollback plan documented and tested" ||
        i.item == "Communication channels established") {
      continue;
    }
    EXPECT_FALSE(i.done) << i.item << ": " << i.evidence;
  }
  EXPECT_EQ(Item("PROD", "8.1 Pre-Deployment / General", "Backup completed and verified").evidence,
            "missing: no backup evidence for PROD");
  EXPECT_TRUE(
      Item("DEV", "8.1 Pre-Deployment / Notification", "On-call resources notified (PROD)").done);
  EXPECT_EQ(Item("DEV", "8.1 Pre-Deployment / General", "Maintenance window confirmed").evidence,
            "not required for DEV: no maintenance window required");
}

TEST_F(ChecklistsTest, ApprovalItemsFromApprovals) {
  const auto& before =
      Item("PROD", "8.1 Pre-Deployment / Environment-Specific", "PROD: CAB approval obtained");
  EXPECT_FALSE(before.done);
  EXPECT_EQ(before.evidence, "missing: 1 more approval from cab-member or cab-chair");
  cr_.approvals.push_back({"PROD", "carl", "cab-member", now_, 1, false, "", "", {}, false});
  const auto& after =
      Item("PROD", "8.1 Pre-Deployment / General", "Change request created and approved");
  EXPECT_TRUE(after.done);
  EXPECT_EQ(after.evidence, "approved by carl (cab-member) 2026-11-30 09:00");
  EXPECT_TRUE(Item("DEV", "8.1 Pre-Deployment / Environment-Specific",
                   "DEV: Development Lead approval obtained")
                  .evidence.starts_with("missing"));
}

TEST_F(ChecklistsTest, EvidenceMakesItemsDone) {
  Record("PROD", kEvidenceBackup, true, {}, {{"location", "/backup/prod-db.sql"}});
  Record("PROD", kEvidencePackageVerified);
  Record("PROD", kEvidenceSmoke, true, 100.0);
  Record("PROD", kEvidenceRollbackTested, true, 300.0);
  const auto& backup =
      Item("PROD", "8.1 Pre-Deployment / General", "Backup completed and verified");
  EXPECT_TRUE(backup.done);
  EXPECT_EQ(backup.evidence, "PROD backup passed by eve at 2026-11-30 09:01");
  EXPECT_TRUE(
      Item("PROD", "8.2 Post-Deployment / Validation", "Smoke tests executed (100% pass required)")
          .done);
  EXPECT_TRUE(
      Item("PROD", "8.1 Pre-Deployment / General", "Rollback plan documented and tested").done);
  Record("PROD", kEvidenceSmoke, true, 99.0);
  EXPECT_FALSE(
      Item("PROD", "8.2 Post-Deployment / Validation", "Smoke tests executed (100% pass required)")
          .done);
  Record("PROD", kEvidenceBackup, false);
  EXPECT_FALSE(Item("PROD", "8.1 Pre-Deployment / General", "Backup completed and verified").done);
}

TEST_F(ChecklistsTest, MaintenanceWindowFromScheduleOrEvidence) {
  cr_.scheduled["PROD"] = sys_days(2026y / December / 13) + hours(3);
  const auto& item = Item("PROD", "8.1 Pre-Deployment / General", "Maintenance window confirmed");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.evidence, "scheduled 2026-12-13 03:00 inside prod-sunday-night (Sun 02:00–06:00)");
  cr_.scheduled["PROD"] = sys_days(2026y / December / 14) + hours(3);
  EXPECT_FALSE(Item("PROD", "8.1 Pre-Deployment / General", "Maintenance window confirmed").done);
  Record("PROD", kEvidenceWindowConfirmed);
  EXPECT_TRUE(Item("PROD", "8.1 Pre-Deployment / General", "Maintenance window confirmed").done);
}

TEST_F(ChecklistsTest, NotificationsByAudience) {
  Record("PROD", kEvidenceNotification);
  EXPECT_TRUE(
      Item("PROD", "8.1 Pre-Deployment / Notification", "Stakeholders notified per schedule").done);
  EXPECT_FALSE(
      Item("PROD", "8.1 Pre-Deployment / Notification", "On-call resources notified (PROD)").done);
  Record("PROD", kEvidenceNotification, true, {}, {{"audience", "on-call"}});
  EXPECT_TRUE(
      Item("PROD", "8.1 Pre-Deployment / Notification", "On-call resources notified (PROD)").done);
  EXPECT_FALSE(
      Item("PROD", "8.2 Post-Deployment / Communication", "Deployment completion notification sent")
          .done);
}

TEST_F(ChecklistsTest, EnhancedMonitoringNeeds72Hours) {
  Record("PROD", kEvidenceMonitoring, true, 24.0, {{"enhanced", "true"}});
  const auto& short_watch = Item("PROD", "8.2 Post-Deployment / Monitoring",
                                 "Enhanced monitoring enabled (PROD - 72 hours)");
  EXPECT_FALSE(short_watch.done);
  EXPECT_THAT(short_watch.evidence, HasSubstr("at least 72 hours"));
  Record("PROD", kEvidenceMonitoring, true, 72.0, {{"enhanced", "true"}});
  EXPECT_TRUE(Item("PROD", "8.2 Post-Deployment / Monitoring",
                   "Enhanced monitoring enabled (PROD - 72 hours)")
                  .done);
}

TEST_F(ChecklistsTest, SignoffsObtained) {
  EXPECT_EQ(Item("TEST", "8.2 Post-Deployment / Documentation", "Sign-offs obtained").evidence,
            "missing: test-manager, business-analyst, uat");
  cr_.signoffs.push_back({"DEV", "dev-lead", "dana", "development-lead", now_, 1});
  const auto& dev = Item("DEV", "8.2 Post-Deployment / Documentation", "Sign-offs obtained");
  EXPECT_TRUE(dev.done);
  EXPECT_EQ(dev.evidence, "dev-lead by dana");
}

TEST_F(ChecklistsTest, RollbackChecklistFromTheRollbackRecord) {
  Record("PROD", kEvidenceDeployment, true);
  Record("PROD", kEvidenceRollback, true, 540.0,
         {{"trigger", "availability 98.7 %"},
          {"authorized_by", "chris, opal"},
          {"services-stopped", "true"},
          {"files-restored", "true"}});
  EXPECT_TRUE(Item("PROD", "8.3 Rollback / Decision", "Rollback trigger identified").done);
  EXPECT_FALSE(Item("PROD", "8.3 Rollback / Decision", "Impact assessed").done);
  EXPECT_TRUE(Item("PROD", "8.3 Rollback / Execution", "Application files restored").done);
  EXPECT_FALSE(Item("PROD", "8.3 Rollback / Execution", "Database restored").done);
  EXPECT_TRUE(Item("PROD", "8.3 Rollback / Execution", "Rollback verified").done);
  EXPECT_EQ(Item("PROD", "8.3 Rollback / Post-Rollback", "Smoke tests passed").evidence,
            "missing: no smoke evidence after the rollback");
  Record("PROD", kEvidenceSmoke, true, 100.0);
  EXPECT_TRUE(Item("PROD", "8.3 Rollback / Post-Rollback", "Smoke tests passed").done);
}

TEST_F(ChecklistsTest, EmergencyChecklistShowsOverdueVerbalConfirmation) {
  cr_.emergency = true;
  cr_.classification = Priority::kP1Critical;
  Approval verbal{"PROD", "sam", "security-lead", now_, 1, true, "eve", "", {}, true};
  cr_.approvals.push_back(verbal);
  const auto& fresh =
      Item("PROD", "8.4 Emergency Response / Activation", "Verbal approval obtained");
  EXPECT_TRUE(fresh.done);
  EXPECT_EQ(fresh.evidence, "sam at 2026-11-30 09:00");
  EXPECT_TRUE(
      Item("PROD", "8.4 Emergency Response / Activation", "Emergency approvers contacted").done);
  now_ += hours(25);
  const auto& overdue =
      Item("PROD", "8.4 Emergency Response / Activation", "Verbal approval obtained");
  EXPECT_FALSE(overdue.done);
  EXPECT_EQ(overdue.evidence,
            "sam at 2026-11-30 09:00: written confirmation overdue since 2026-12-01 09:00");
  const auto& approved =
      Item("PROD", "8.1 Pre-Deployment / General", "Change request created and approved");
  EXPECT_FALSE(approved.done);
  EXPECT_THAT(approved.evidence,
              HasSubstr("verbal approval by sam overdue for written confirmation"));
}

TEST_F(ChecklistsTest, PirScheduledWithinFiveBusinessDays) {
  cr_.emergency = true;
  Record("PROD", kEvidenceDeployment, true);  // Monday 30 November
  Record("PROD", kEvidencePirScheduled, true, {}, {{"date", "2026-12-08"}});
  ChecklistItem late = Item("PROD", "8.4 Emergency Response / Follow-Up",
                            "Post-incident review scheduled (within 5 days)");
  EXPECT_FALSE(late.done);
  EXPECT_EQ(late.evidence, "PIR on 2026-12-08 (due before 2026-12-08 00:00)");
  // The fifth business day after Monday 30 November is Monday 7 December.
  Record("PROD", kEvidencePirScheduled, true, {}, {{"date", "2026-12-07"}});
  EXPECT_TRUE(Item("PROD", "8.4 Emergency Response / Follow-Up",
                   "Post-incident review scheduled (within 5 days)")
                  .done);
}

TEST_F(ChecklistsTest, JsonShape) {
  nlohmann::json j = ChecklistToJson(cr_, "DEV", ComputeChecklist(cr_, config_, "DEV", now_, utc_));
  EXPECT_EQ(j["cr"], "CR-1");
  EXPECT_EQ(j["items"][0]["section"], "8.1 Pre-Deployment / General");
  EXPECT_EQ(j["items"][0]["item"], "Change request created and approved");
  EXPECT_EQ(j["items"][0]["done"], false);
}

}  // namespace
}  // namespace rollgate
