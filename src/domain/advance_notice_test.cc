// The §2.5 pre-deployment notice: its timing per environment, when it is due, and its text.
#include "domain/advance_notice.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;

class AdvanceNoticeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cr_ = testing::SampleChangeRequest(config_, testing::SamplePatch(7.5));
    cr_.state = CrState::kSubmitted;
    cr_.affected_systems = {"billing", "payments"};
  }
  const NotificationRule& RuleOf(const char* env) {
    return config_.FindEnvironment(env)->notification;
  }
  void Record(const char* env, Timestamp planned) {
    Evidence e;
    e.kind = kEvidenceNotification;
    e.environment = env;
    e.passed = false;  // even a failed first attempt is recorded: the queue retries it
    e.fields = {{kFieldNotice, kNoticeAdvance}, {kFieldPlanned, FormatRfc3339Utc(planned)}};
    cr_.evidence.push_back(e);
  }

  Config config_ = testing::SampleConfig();
  ChangeRequest cr_;
  Timestamp now_ = testing::MondayMorning();
  FixedOffsetZone zone_{Seconds(0)};
};

TEST_F(AdvanceNoticeTest, TimingFollowsTheEnvironmentsRow) {
  // DEV: immediately.
  NoticeTiming dev = AdvanceNoticeTiming(RuleOf("DEV"), now_ + hours(5), now_);
  EXPECT_EQ(dev.send_at, now_);
  EXPECT_FALSE(dev.late);
  // TEST: 24 hours before; inside those 24 hours, at once and late.
  EXPECT_EQ(AdvanceNoticeTiming(RuleOf("TEST"), now_ + hours(48), now_).send_at, now_ + hours(24));
  NoticeTiming test_late = AdvanceNoticeTiming(RuleOf("TEST"), now_ + hours(10), now_);
  EXPECT_EQ(test_late.send_at, now_);
  EXPECT_TRUE(test_late.late);
  // PROD: 48-72 hours before: at 72 hours; at once (on time) between 72 and 48; late after.
  EXPECT_EQ(AdvanceNoticeTiming(RuleOf("PROD"), now_ + hours(100), now_).send_at, now_ + hours(28));
  NoticeTiming inside = AdvanceNoticeTiming(RuleOf("PROD"), now_ + hours(60), now_);
  EXPECT_EQ(inside.send_at, now_);
  EXPECT_FALSE(inside.late);
  EXPECT_TRUE(AdvanceNoticeTiming(RuleOf("PROD"), now_ + hours(30), now_).late);
}

TEST_F(AdvanceNoticeTest, DueOncePerPlannedStartWhileTheChangeIsAhead) {
  Timestamp planned = now_ + hours(100);
  EXPECT_FALSE(DueAdvanceNotice(cr_, config_, "PROD", planned, now_));
  EXPECT_TRUE(DueAdvanceNotice(cr_, config_, "PROD", planned, now_ + hours(28)));
  Record("PROD", planned);
  EXPECT_FALSE(DueAdvanceNotice(cr_, config_, "PROD", planned, now_ + hours(28)));
  // Rescheduled: the new time gets its own notice.
  EXPECT_TRUE(DueAdvanceNotice(cr_, config_, "PROD", planned + hours(1), now_ + hours(29)));
  // Past the planned start the deployment's own messages tell.
  EXPECT_FALSE(DueAdvanceNotice(cr_, config_, "PROD", planned + hours(1), planned + hours(2)));
  // A draft is not announced; nor is an environment the configuration lacks.
  cr_.state = CrState::kDraft;
  EXPECT_FALSE(DueAdvanceNotice(cr_, config_, "DEV", now_ + hours(1), now_));
  cr_.state = CrState::kSubmitted;
  EXPECT_FALSE(DueAdvanceNotice(cr_, config_, "STAGING", now_ + hours(1), now_));
}

TEST_F(AdvanceNoticeTest, AnEmergencyIsToldByItsApprovalRequestNotBySchedule) {
  config_.emergency_notification = {{"security-team"}, Seconds(0), Seconds(0), {"teams"}};
  cr_.emergency = true;
  EXPECT_EQ(AdvanceNoticeRule(cr_, config_, "PROD"), &config_.emergency_notification);
  EXPECT_FALSE(DueAdvanceNotice(cr_, config_, "PROD", now_ + hours(6), now_));
}

TEST_F(AdvanceNoticeTest, TheMessageCarriesWhatStepTwoLists) {
  Message m = AdvanceNoticeMessage(cr_, config_, "PROD", now_ + hours(30), true, zone_);
  EXPECT_THAT(m.subject, HasSubstr("[PLANNED DEPLOYMENT] billing - PROD - 2026-12-01 15:00"));
  EXPECT_THAT(m.subject, HasSubstr("late notice"));
  EXPECT_THAT(m.body, HasSubstr("Date and time: 2026-12-01 15:00"));
  EXPECT_THAT(m.body, HasSubstr("Expected duration: "));
  EXPECT_THAT(m.body, HasSubstr("Affected systems: billing, payments"));
  EXPECT_THAT(m.body, HasSubstr("Rollback plan: documented"));
  EXPECT_THAT(m.body, HasSubstr("Contact: "));
  EXPECT_THAT(m.body, HasSubstr("This notice is late: the playbook asks for it 2d"));
  EXPECT_EQ(m.template_name, "advance-notice");
  EXPECT_EQ(m.values.at("late"), "yes");
}

}  // namespace
}  // namespace rollgate
