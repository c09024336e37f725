#include "service/notification_service.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "domain/deployment_messages.h"
#include "testing/fake_clock.h"
#include "testing/faulty_store.h"
#include "testing/sample_config.h"
#include "testing/test_store.h"

namespace rollgate {
namespace {

using rollgate::testing::FakeClock;
using ::testing::HasSubstr;

class NotificationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = rollgate::testing::FreshTestDirectory("rollgate-notification-service");
    auto opened = OpenStore("sqlite:" + (dir_ / "state.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    store_ = std::move(*opened);
    config_.channels = {Channel{"mail", "email", {{"url", "smtp://127.0.0.1:9"}}},
                        Channel{"hook", "webhook", {{"url", "http://127.0.0.1:9/"}}}};
    rule_.channels = {"mail"};
    ChangeRequest cr =
        rollgate::testing::SampleChangeRequest(config_, rollgate::testing::SamplePatch());
    cr.id = "CR-1";
    cr.number = 1;
    cr.state = CrState::kInProgress;
    ASSERT_TRUE(store_->Write([&](Transaction& tx) { return tx.PutChangeRequest(cr); }).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  NotificationService Service() {
    return NotificationService(
        config_, *store_, clock_, zone_,
        [this](const Channel& channel, const notify::OutgoingMessage& m,
               const notify::DeliveryContext&) -> Result<std::string> {
          delivered_.push_back(channel.name + ":" + m.subject + ":" + m.recipient_email);
          if (fail_) return Unavailable("connection refused");
          return std::string("mailed");
        });
  }

  std::vector<Evidence> NotificationEvidence() {
    ChangeRequest cr = rollgate::testing::StoredChangeRequest(*store_, "CR-1");
    std::vector<Evidence> out;
    for (const Evidence& e : cr.evidence) {
      if (e.kind == kEvidenceNotification) out.push_back(e);
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  Config config_ = rollgate::testing::SampleConfig();
  NotificationRule rule_;
  FakeClock clock_{Timestamp(Seconds(1796029980))};
  FixedOffsetZone zone_{Seconds(0)};
  std::vector<std::string> delivered_;
  bool fail_ = false;
  Message message_{"[DEPLOYMENT START] billing - TEST", "body", "", {}};
};

TEST_F(NotificationServiceTest, DeliveredMessageIsSentAndRecordedOnTheCr) {
  NotificationService service = Service();
  NotificationRecipient tina{"tina", "Tina Test", "tina@example.com", "", "test-manager"};
  auto evidence =
      service.Send("CR-1", "TEST", rule_, message_, "RUN-1", "eve", {tina}, {{"audience", "qa"}});
  ASSERT_TRUE(evidence.ok()) << evidence.error().message();
  ASSERT_EQ(evidence->size(), 1u);
  EXPECT_EQ((*evidence)[0].passed, true);
  EXPECT_EQ((*evidence)[0].fields.at("person"), "tina");
  EXPECT_EQ((*evidence)[0].fields.at("audience"), "qa");
  EXPECT_EQ((*evidence)[0].fields.at("state"), "sent");
  EXPECT_EQ(delivered_, std::vector<std::string>{"mail:[DEPLOYMENT START] billing - TEST:"
                                                 "tina@example.com"});
  auto list = service.List({});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].state, NotificationState::kSent);
  EXPECT_EQ((*list)[0].attempts, 1);
  EXPECT_EQ((*list)[0].sent_at, clock_.Now());
  ASSERT_EQ(NotificationEvidence().size(), 1u);
  auto events = store_->AuditEventsFor("CR-1");
  ASSERT_TRUE(events.ok());
  std::vector<std::string> actions;
  for (const AuditEvent& e : *events) actions.push_back(e.action);
  EXPECT_THAT(actions, ::testing::IsSupersetOf({"notification.queued", "notification.sent"}));
}

TEST_F(NotificationServiceTest, FailedAttemptStaysPendingThenAFlushDeliversIt) {
  NotificationService service = Service();
  fail_ = true;
  auto evidence = service.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {});
  ASSERT_TRUE(evidence.ok()) << evidence.error().message();
  ASSERT_EQ(evidence->size(), 1u);
  EXPECT_EQ((*evidence)[0].passed, false);
  EXPECT_THAT((*evidence)[0].detail, HasSubstr("connection refused"));
  auto n = service.Get(1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->state, NotificationState::kPending);
  EXPECT_EQ(n->attempts, 1);
  EXPECT_EQ(n->next_attempt, clock_.Now() + Seconds(30));
  EXPECT_EQ(n->last_error, "connection refused");

  // Not due yet: nothing attempted.
  fail_ = false;
  clock_.Advance(Seconds(29));
  auto early = service.Flush("rollgate");
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->attempted.empty());

  clock_.Advance(Seconds(1));
  auto flushed = service.Flush("rollgate");
  ASSERT_TRUE(flushed.ok());
  EXPECT_EQ(flushed->sent, 1);
  n = service.Get(1);
  EXPECT_EQ(n->state, NotificationState::kSent);
  EXPECT_EQ(n->attempts, 2);
  EXPECT_TRUE(n->last_error.empty());
  // The CR shows the failed first attempt, then the delivery: the latest says sent.
  auto recorded = NotificationEvidence();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].passed, false);
  EXPECT_EQ(recorded[1].passed, true);
}

TEST_F(NotificationServiceTest, BackoffThenFailedAfterMaxAttempts) {
  NotificationService service = Service();
  fail_ = true;
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {}).ok());
  std::vector<Seconds> delays = {Seconds(30), Seconds(120), Seconds(600), Seconds(1800),
                                 Seconds(3600)};
  for (Seconds delay : delays) {
    auto n = service.Get(1);
    ASSERT_EQ(n->state, NotificationState::kPending);
    EXPECT_EQ(*n->next_attempt, clock_.Now() + delay);
    clock_.Advance(delay);
    ASSERT_TRUE(service.Flush("rollgate").ok());
  }
  auto n = service.Get(1);
  EXPECT_EQ(n->state, NotificationState::kFailed);
  EXPECT_EQ(n->attempts, 6);
  EXPECT_FALSE(n->next_attempt.has_value());
  auto recorded = NotificationEvidence();
  ASSERT_EQ(recorded.size(), 2u);  // the first attempt and the final failure
  EXPECT_THAT(recorded[1].detail, HasSubstr("failed after 6 attempts"));

  // Retry puts it back; the next flush delivers it.
  auto retried = service.Retry(1, "eve");
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->state, NotificationState::kPending);
  EXPECT_EQ(retried->attempts, 0);
  fail_ = false;
  auto flushed = service.Flush("rollgate");
  ASSERT_TRUE(flushed.ok());
  EXPECT_EQ(flushed->sent, 1);
  EXPECT_EQ(service.Retry(1, "eve").error().code(), StatusCode::kConflict);
  EXPECT_EQ(service.Retry(99, "eve").error().code(), StatusCode::kNotFound);
}

TEST_F(NotificationServiceTest, ANewMessageFlushesWhatIsDueFirst) {
  NotificationService service = Service();
  fail_ = true;
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {}).ok());
  fail_ = false;
  clock_.Advance(Seconds(60));
  Message second{"second", "body", "", {}};
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, second, "", "eve", {}, {}).ok());
  auto list = service.List({});
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].state, NotificationState::kSent);
  EXPECT_EQ((*list)[1].state, NotificationState::kSent);
}

TEST_F(NotificationServiceTest, WithoutRecipientsTheGroupsAddressesAreUsed) {
  config_.groups.push_back(ContactGroup{});
  config_.groups.back().name = "qa-team";
  config_.groups.back().email = "qa@example.com";
  rule_.notify = {"qa-team"};
  NotificationService service = Service();
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {}).ok());
  EXPECT_THAT(delivered_, ::testing::ElementsAre(HasSubstr(":qa@example.com")));
}

TEST_F(NotificationServiceTest, ConfiguredTemplateOverrideIsUsed) {
  config_.message_templates["deployment-start"] = {"Starting {cr} on {environment}", std::nullopt};
  DeploymentFacts facts;
  facts.system = "billing";
  facts.environment = "TEST";
  facts.change_request = "CR-1";
  facts.patch = "PATCH-1 1.2.0";
  Message message = DeploymentStartMessage(facts, zone_);
  NotificationService service = Service();
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message, "", "eve", {}, {}).ok());
  auto n = service.Get(1);
  EXPECT_EQ(n->subject, "Starting CR-1 on TEST");
  EXPECT_EQ(n->body, message.body);
}

TEST_F(NotificationServiceTest, ListFiltersByCrAndState) {
  NotificationService service = Service();
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {}).ok());
  fail_ = true;
  ASSERT_TRUE(service.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {}).ok());
  NotificationFilter pending;
  pending.state = NotificationState::kPending;
  EXPECT_EQ(service.List(pending)->size(), 1u);
  NotificationFilter other;
  other.change_request = "CR-2";
  EXPECT_TRUE(service.List(other)->empty());
}

TEST_F(NotificationServiceTest, AnAttemptWhoseOutcomeCouldNotBeStoredIsMadeAgain) {
  // The queueing commits; storing the first attempt's outcome fails (disk full): the message is
  // still pending and due, and the next flush sends it again (at least once, never lost).
  rollgate::testing::FaultyStore faulty(*store_);
  NotificationService failing(config_, faulty, clock_, zone_,
                              [this](const Channel&, const notify::OutgoingMessage& m,
                                     const notify::DeliveryContext&) -> Result<std::string> {
                                delivered_.push_back(m.subject);
                                return std::string("mailed");
                              });
  faulty.FailWrite(2, /*sticky=*/false);
  auto evidence = failing.Send("CR-1", "TEST", rule_, message_, "", "eve", {}, {});
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.error().code(), StatusCode::kUnavailable);
  NotificationService service = Service();
  auto n = service.Get(1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->state, NotificationState::kPending);
  EXPECT_EQ(n->attempts, 0);
  auto flushed = service.Flush("eve");
  ASSERT_TRUE(flushed.ok());
  EXPECT_EQ(flushed->sent, 1);
  EXPECT_EQ(delivered_.size(), 2u);
  EXPECT_EQ(service.Get(1)->state, NotificationState::kSent);
}

}  // namespace
}  // namespace rollgate
