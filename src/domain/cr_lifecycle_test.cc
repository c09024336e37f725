#include "domain/cr_lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "domain/approvals.h"
#include "domain/pir.h"
#include "testing/fake_clock.h"
#include "testing/sample_config.h"

namespace rollgate {
namespace {

using namespace std::chrono;
using rollgate::testing::MondayMorning;
using rollgate::testing::SampleChangeRequest;
using rollgate::testing::SampleConfig;
using rollgate::testing::SamplePatch;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kSha(64, 'a');

class CrLifecycleTest : public ::testing::Test {
 protected:
  Attachment Doc(std::string kind, std::string sha = kSha) {
    return Attachment{std::move(kind), "doc.pdf", std::move(sha), 10, "eve", {}};
  }

  ChangeRequest Submitted(ChangeRequest cr) {
    auto attached = AddAttachment(cr, config_, Doc("security-impact-assessment"), now_);
    EXPECT_TRUE(attached.ok()) << attached.status().ToString();
    auto submitted = Submit(attached->cr, config_, "eve", now_);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    return submitted->cr;
  }

  ChangeRequest Apply(const Result<CrTransition>& r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->cr;
  }

  Config config_ = SampleConfig();
  Patch patch_ = SamplePatch(7.5);
  Timestamp now_ = MondayMorning();
  FixedOffsetZone utc_{Seconds(0)};
  ChangeRequest draft_ = SampleChangeRequest(config_, patch_);
};

TEST_F(CrLifecycleTest, NewChangeRequestFromPatch) {
  EXPECT_EQ(draft_.id, "CR-1");
  EXPECT_EQ(draft_.title, "billing - Security Patch - 2026-11-30");
  EXPECT_EQ(draft_.type, ChangeType::kSecurity);
  EXPECT_EQ(draft_.classification, Priority::kP2High);
  EXPECT_FALSE(draft_.emergency);
  EXPECT_EQ(draft_.state, CrState::kDraft);
  EXPECT_EQ(draft_.revision, 1);
  EXPECT_EQ(draft_.patch_id, "PATCH-1");
  EXPECT_THAT(draft_.affected_systems, ElementsAre("billing"));
  EXPECT_EQ(draft_.created_at, now_);
}

TEST_F(CrLifecycleTest, NewChangeRequestAuditRecord) {
  CrDraft d;
  d.system = "billing";
  d.requester = "eve";
  auto r = NewChangeRequest(d, SamplePatch(9.8, true), config_, now_, FixedOffsetZone(-hours(10)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cr.title, "billing - Security Patch - 2026-11-29");  // local date
  EXPECT_TRUE(r->cr.emergency);
  EXPECT_EQ(r->cr.classification, Priority::kP1Critical);
  EXPECT_EQ(r->action, "cr.create");
  EXPECT_EQ(
      r->details,
      R"({"classification":"P1-Critical","emergency":true,"patch":"PATCH-1","requester":"eve",)"
      R"("revision":1,"state":"draft","system":"billing","title":"billing - Security Patch - )"
      R"(2026-11-29","type":"security"})");
}

TEST_F(CrLifecycleTest, NonSecurityPatchDefaultsToStandardAndTypeCanBeGiven) {
  Patch p;
  p.id = "PATCH-2";
  p.classification.priority = Priority::kP4Low;
  CrDraft d;
  d.system = "billing";
  d.requester = "eve";
  EXPECT_EQ(NewChangeRequest(d, p, config_, now_, utc_)->cr.title,
            "billing - Standard Patch - 2026-11-30");
  d.type = ChangeType::kInfrastructure;
  EXPECT_EQ(NewChangeRequest(d, p, config_, now_, utc_)->cr.title,
            "billing - Infrastructure Patch - 2026-11-30");
}

TEST_F(CrLifecycleTest, NewChangeRequestRefusesUnknownSystemsAndPeople) {
  CrDraft d;
  d.system = "biling";
  d.requester = "eve";
  auto r = NewChangeRequest(d, patch_, config_, now_, utc_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.error().message(),
            "no system named 'biling' in the configuration (did you mean 'billing'?)");
  d.system = "billing";
  d.affected_systems = {"billing", "payroll"};
  EXPECT_EQ(NewChangeRequest(d, patch_, config_, now_, utc_).error().code(), StatusCode::kNotFound);
  d.affected_systems = {};
  d.requester = "mallory";
  EXPECT_EQ(NewChangeRequest(d, patch_, config_, now_, utc_).error().code(), StatusCode::kNotFound);
  d.requester = "eve";
  d.expected_downtime = -minutes(1);
  EXPECT_EQ(NewChangeRequest(d, patch_, config_, now_, utc_).error().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CrLifecycleTest, SubmitNamesEveryMissingItem) {
  CrDraft d;
  d.number = 7;
  d.system = "billing";
  d.requester = "eve";
  ChangeRequest empty = NewChangeRequest(d, patch_, config_, now_, utc_)->cr;
  auto r = Submit(empty, config_, "eve", now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "cannot submit CR-7: missing description; implementation plan; rollback plan (or a "
            "rollback-procedure attachment); risk assessment; test plan; a "
            "security-impact-assessment attachment (required for P1/P2)");
}

TEST_F(CrLifecycleTest, SubmitP3NeedsNoSecurityImpactAssessment) {
  ChangeRequest p3 = SampleChangeRequest(config_, SamplePatch(5.0));
  auto r = Submit(p3, config_, "eve", now_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->cr.state, CrState::kSubmitted);
  EXPECT_EQ(r->cr.submitted_at, now_);
  EXPECT_EQ(r->action, "cr.submit");
  EXPECT_EQ(r->details, R"({"by":"eve","revision":1,"state":"submitted"})");
}

TEST_F(CrLifecycleTest, SubmitAcceptsPlansAsAttachments) {
  ChangeRequest cr = draft_;
  cr.rollback_plan.clear();
  cr.test_plan.clear();
  cr = Apply(AddAttachment(cr, config_, Doc("rollback-procedure"), now_));
  cr = Apply(AddAttachment(cr, config_, Doc("test-specification"), now_));
  cr = Apply(AddAttachment(cr, config_, Doc("security-impact-assessment"), now_));
  EXPECT_TRUE(Submit(cr, config_, "eve", now_).ok());
}

TEST_F(CrLifecycleTest, AllowedActionsPerState) {
  EXPECT_THAT(AllowedActions(CrState::kDraft),
              ElementsAre("edit", "justify", "attach", "schedule", "submit", "cancel"));
  EXPECT_THAT(AllowedActions(CrState::kCompleted),
              ElementsAre("attach", "confirm", "signoff", "evidence", "close"));
  EXPECT_TRUE(AllowedActions(CrState::kClosed).empty());
  ChangeRequest closed = draft_;
  closed.state = CrState::kClosed;
  EXPECT_EQ(CheckActionAllowed(closed, "cancel").message(),
            "cannot cancel CR-1: it is closed (nothing is allowed: it is final)");
  EXPECT_EQ(Approve(draft_, config_, "DEV", "dana", now_).error().message(),
            "cannot approve CR-1: it is draft (allowed: edit, justify, attach, schedule, submit, "
            "cancel)");
}

// Every operation in every state: refused with Conflict exactly when the state does not allow
// it; when allowed, any refusal is for another reason.
TEST_F(CrLifecycleTest, EveryTransitionLegalAndIllegal) {
  ChangeRequest base = SampleChangeRequest(config_, SamplePatch(9.8, true));
  base.submitted_at = now_;
  base.evidence.push_back({"PROD", kEvidenceDeployment, true, {}, "", {}, "system", now_, ""});
  using Op = std::function<Result<CrTransition>(const ChangeRequest&)>;
  std::vector<std::pair<std::string, Op>> ops = {
      {"edit",
       [&](const ChangeRequest& cr) {
         CrEdit e;
         e.description = "changed";
         return EditChangeRequest(cr, e, config_, "eve", now_, utc_);
       }},
      {"justify",
       [&](const ChangeRequest& cr) {
         return RecordEmergencyJustification(cr, SamplePatch(9.8, true), config_,
                                             {"exploited RCE", "actively exploited", ""}, "eve",
                                             now_);
       }},
      {"attach",
       [&](const ChangeRequest& cr) { return AddAttachment(cr, config_, Doc("other"), now_); }},
      {"schedule",
       [&](const ChangeRequest& cr) {
         return Schedule(cr, config_, "DEV", now_ + hours(1), "eve", now_);
       }},
      {"submit", [&](const ChangeRequest& cr) { return Submit(cr, config_, "eve", now_); }},
      {"approve",
       [&](const ChangeRequest& cr) { return Approve(cr, config_, "DEV", "dana", now_); }},
      {"verbal-approve",
       [&](const ChangeRequest& cr) {
         return RecordVerbalApproval(cr, config_, {"PROD", "sam", "eve", now_, ""}, now_);
       }},
      {"confirm",
       [&](const ChangeRequest& cr) {
         return ConfirmVerbalApproval(cr, config_, "PROD", "sam", now_);
       }},
      {"reject",
       [&](const ChangeRequest& cr) { return Reject(cr, config_, "DEV", "dana", "no", now_); }},
      {"signoff",
       [&](const ChangeRequest& cr) {
         return SignOff(cr, config_, "DEV", "dev-lead", "dana", now_);
       }},
      {"evidence",
       [&](const ChangeRequest& cr) {
         return RecordEvidence(cr, config_,
                               {"DEV", kEvidenceSmoke, true, 100.0, "", {}, "eve", {}, ""}, now_);
       }},
      {"cancel",
       [&](const ChangeRequest& cr) { return Cancel(cr, config_, "eve", "withdrawn", now_); }},
      {"close", [&](const ChangeRequest& cr) { return Close(cr, config_, "opal", now_); }},
  };
  for (CrState state :
       {CrState::kDraft, CrState::kSubmitted, CrState::kInProgress, CrState::kCompleted,
        CrState::kClosed, CrState::kRejected, CrState::kCancelled}) {
    ChangeRequest cr = base;
    cr.state = state;
    std::vector<std::string> allowed = AllowedActions(state);
    for (const auto& [action, op] : ops) {
      SCOPED_TRACE(std::string(CrStateName(state)) + " " + action);
      auto r = op(cr);
      bool is_allowed = std::find(allowed.begin(), allowed.end(), action) != allowed.end();
      bool refused_by_state = !r.ok() && r.error().code() == StatusCode::kConflict &&
                              r.error().message().starts_with("cannot " + action + " CR-1: it is ");
      EXPECT_EQ(refused_by_state, !is_allowed) << r.status().ToString();
    }
  }
}

TEST_F(CrLifecycleTest, EmergencyJustificationRecordsTheIncidentScoreSourceAndCriteria) {
  Patch patch = SamplePatch(9.8, true);
  ChangeRequest cr = SampleChangeRequest(config_, patch);
  ASSERT_TRUE(cr.emergency);
  auto t = RecordEmergencyJustification(cr, patch, config_,
                                        {" CVE-2026-12345 exploited against billing ",
                                         "the exploit is public; 5 days is too long", ""},
                                        "eve", now_);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t->cr.emergency_justification.has_value());
  const EmergencyJustification& j = *t->cr.emergency_justification;
  EXPECT_EQ(j.incident, "CVE-2026-12345 exploited against billing");
  EXPECT_EQ(j.why_not_normal, "the exploit is public; 5 days is too long");
  EXPECT_EQ(j.cvss_score, 9.8);
  EXPECT_EQ(j.cvss_source,
            "CVSS 3.1 vector CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N recorded on PATCH-1");
  EXPECT_THAT(j.criteria, ElementsAre("active exploitation confirmed in the wild",
                                      "CVSS 3.1 base score 9.8 ≥ 9.0 (critical)"));
  EXPECT_EQ(j.recorded_by, "eve");
  EXPECT_EQ(j.recorded_at, now_);
  EXPECT_EQ(t->cr.revision, cr.revision);  // a draft keeps its revision
  EXPECT_EQ(t->action, "cr.justify");
  auto details = nlohmann::json::parse(t->details);
  EXPECT_EQ(details["cvss_score"], 9.8);
  EXPECT_EQ(details["replaced"], false);

  // A given source replaces the default; after submission the revision moves on.
  ChangeRequest submitted = t->cr;
  submitted.state = CrState::kSubmitted;
  auto again = RecordEmergencyJustification(
      submitted, patch, config_, {"exploited", "public exploit", "NVD, 2026-11-29"}, "eve", now_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->cr.emergency_justification->cvss_source, "NVD, 2026-11-29");
  EXPECT_EQ(again->cr.revision, submitted.revision + 1);
  EXPECT_EQ(nlohmann::json::parse(again->details)["replaced"], true);
}

TEST_F(CrLifecycleTest, EmergencyJustificationNeedsTheIncidentAndWhy) {
  Patch patch = SamplePatch(9.8, true);
  ChangeRequest cr = SampleChangeRequest(config_, patch);
  auto blank = RecordEmergencyJustification(cr, patch, config_, {" ", "", ""}, "eve", now_);
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(blank.error().message(),
            "the emergency justification of CR-1 needs the incident or vulnerability (--incident) "
            "and why the normal process cannot be followed (--why)");
  auto stranger = RecordEmergencyJustification(cr, patch, config_, {"x", "y", ""}, "ghost", now_);
  EXPECT_EQ(stranger.error().code(), StatusCode::kNotFound);
}

TEST_F(CrLifecycleTest, EmergencyJustificationRefusedForAChangeOutsideSection5_1) {
  Patch patch = SamplePatch(5.3);
  patch.id = "PATCH-4";
  ChangeRequest cr = SampleChangeRequest(config_, patch);
  auto refused = RecordEmergencyJustification(cr, patch, config_, {"x", "y", ""}, "eve", now_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(refused.error().message(),
              HasSubstr("PATCH-4 is P3-Moderate with CVSS 5.3 and no exploitation: none of "
                        "§5.1's criteria"));
  // A CR raised as standard stays standard even when its patch now qualifies.
  Patch critical = SamplePatch(9.8, true);
  ChangeRequest standard = SampleChangeRequest(config_, critical);
  standard.emergency = false;
  auto raised_standard =
      RecordEmergencyJustification(standard, critical, config_, {"x", "y", ""}, "eve", now_);
  EXPECT_EQ(raised_standard.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(raised_standard.error().message(), HasSubstr("raised as a standard change"));
}

TEST_F(CrLifecycleTest, CancelNeedsAReason) {
  EXPECT_EQ(Cancel(draft_, config_, "eve", "  ", now_).error().code(),
            StatusCode::kInvalidArgument);
  auto r = Cancel(draft_, config_, "eve", " vendor withdrew the patch ", now_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cr.state, CrState::kCancelled);
  EXPECT_EQ(r->cr.cancel_reason, "vendor withdrew the patch");
  EXPECT_EQ(
      r->details,
      R"({"by":"eve","reason":"vendor withdrew the patch","revision":1,"state":"cancelled"})");
}

TEST_F(CrLifecycleTest, RejectByApproverWithReasonThenNoApproval) {
  ChangeRequest cr = Submitted(draft_);
  auto by_engineer = Reject(cr, config_, "DEV", "ed", "no", now_);
  EXPECT_EQ(by_engineer.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(by_engineer.error().message(),
            "ed may not reject DEV: it needs the role development-lead");
  EXPECT_EQ(Reject(cr, config_, "DEV", "dana", "", now_).error().code(),
            StatusCode::kInvalidArgument);
  cr = Apply(Reject(cr, config_, "PROD", "carl", "rollback plan untested", now_));
  EXPECT_EQ(cr.state, CrState::kRejected);
  ASSERT_EQ(cr.rejections.size(), 1u);
  EXPECT_EQ(cr.rejections[0].reason, "rollback plan untested");
  auto approve = Approve(cr, config_, "DEV", "dana", now_);
  EXPECT_EQ(approve.error().code(), StatusCode::kConflict);
  EXPECT_THAT(approve.error().message(), HasSubstr("it is rejected"));
}

TEST_F(CrLifecycleTest, ApproveRecordsAndMovesToInProgress) {
  ChangeRequest cr = Submitted(draft_);
  auto r = Approve(cr, config_, "DEV", "dana", now_ + minutes(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cr.state, CrState::kInProgress);
  ASSERT_EQ(r->cr.approvals.size(), 1u);
  EXPECT_EQ(r->cr.approvals[0].role, "development-lead");
  EXPECT_EQ(r->cr.approvals[0].cr_revision, 1);
  EXPECT_EQ(r->action, "cr.approve");
  EXPECT_EQ(r->details,
            R"({"approver":"dana","at":"2026-11-30T09:05:00Z","environment":"DEV","revision":1,)"
            R"("role":"development-lead","state":"in-progress","verbal":false})");
}

TEST_F(CrLifecycleTest, QuorumOfTwoKeepsSubmittedUntilSecondApprover) {
  config_.environments[2].approval.quorum = 2;
  ChangeRequest cr = Apply(Approve(Submitted(draft_), config_, "PROD", "carl", now_));
  EXPECT_EQ(cr.state, CrState::kSubmitted);
  cr = Apply(Approve(cr, config_, "PROD", "cora", now_));
  EXPECT_EQ(cr.state, CrState::kInProgress);
}

TEST_F(CrLifecycleTest, SeparationOfDutiesEvenForAdmins) {
  config_.people[12].roles.push_back(kRoleDevelopmentLead);  // ada: engineer, admin, dev lead
  ChangeRequest cr = draft_;
  cr.requester = "ada";
  cr = Submitted(cr);
  auto r = Approve(cr, config_, "DEV", "ada", now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(r.error().message(),
            "ada requested CR-1 and may not approve it: separation of duties "
            "(policy.separation_of_duties)");
  auto signoff = SignOff(cr, config_, "DEV", "dev-lead", "ada", now_);
  EXPECT_EQ(signoff.error().code(), StatusCode::kPermissionDenied);
  config_.separation_of_duties = false;
  EXPECT_TRUE(Approve(cr, config_, "DEV", "ada", now_).ok());
}

TEST_F(CrLifecycleTest, DuplicateApproverUnknownEnvironmentAndMissingRole) {
  ChangeRequest cr = Apply(Approve(Submitted(draft_), config_, "DEV", "dana", now_));
  auto dup = Approve(cr, config_, "DEV", "dana", now_);
  EXPECT_EQ(dup.error().code(), StatusCode::kConflict);
  EXPECT_EQ(dup.error().message(),
            "dana already approved CR-1 for DEV (revision 1); a person counts once");
  auto unknown = Approve(cr, config_, "STAGING", "dana", now_);
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  auto wrong = Approve(cr, config_, "TEST", "dana", now_);
  EXPECT_EQ(wrong.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(wrong.error().message(), "dana may not approve TEST: it needs the role test-manager");
  EXPECT_EQ(Approve(cr, config_, "DEV", "nobody", now_).error().code(), StatusCode::kNotFound);
}

TEST_F(CrLifecycleTest, EditAfterSubmissionBumpsRevisionAndVoidsApprovals) {
  ChangeRequest cr = Apply(Approve(Submitted(draft_), config_, "DEV", "dana", now_));
  cr = Apply(SignOff(cr, config_, "DEV", "dev-lead", "dana", now_));
  CrEdit edit;
  edit.implementation_plan = "A different plan";
  auto r = EditChangeRequest(cr, edit, config_, "eve", now_, utc_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cr.revision, 2);
  EXPECT_EQ(r->details,
            R"({"by":"eve","changed":["implementation_plan"],"revision":2,"state":"in-progress"})");
  ApprovalTally tally = TallyApprovals(r->cr, config_, config_.environments[0], now_, false);
  EXPECT_TRUE(tally.counted.empty());
  EXPECT_EQ(tally.voided.size(), 1u);
  EXPECT_EQ(r->cr.approvals.size(), 1u);  // still recorded
  // The same approver may approve the new revision.
  ChangeRequest again = Apply(Approve(r->cr, config_, "DEV", "dana", now_));
  EXPECT_TRUE(TallyApprovals(again, config_, config_.environments[0], now_, false).met());
}

TEST_F(CrLifecycleTest, EditInDraftKeepsRevisionAndRefusesNoChange) {
  CrEdit edit;
  edit.description = draft_.description;
  EXPECT_EQ(EditChangeRequest(draft_, edit, config_, "eve", now_, utc_).error().code(),
            StatusCode::kInvalidArgument);
  edit.type = ChangeType::kInfrastructure;
  edit.affected_systems = std::vector<std::string>{};
  auto r = EditChangeRequest(draft_, edit, config_, "eve", now_, utc_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cr.revision, 1);
  EXPECT_EQ(r->cr.title, "billing - Infrastructure Patch - 2026-11-30");
  edit.affected_systems = std::vector<std::string>{"payroll"};
  EXPECT_EQ(EditChangeRequest(draft_, edit, config_, "eve", now_, utc_).error().code(),
            StatusCode::kNotFound);
}

TEST_F(CrLifecycleTest, VerbalApprovalOnlyForEmergencies) {
  ChangeRequest cr = Submitted(draft_);
  auto r = RecordVerbalApproval(cr, config_, {"PROD", "sam", "eve", now_, ""}, now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kRefusedByGate);
  EXPECT_EQ(r.error().message(),
            "verbal approvals are for emergency changes only (playbook §5.2); CR-1 is not an "
            "emergency");
}

TEST_F(CrLifecycleTest, VerbalApprovalRecordedAndConfirmedByTheApprover) {
  ChangeRequest cr = Submitted(SampleChangeRequest(config_, SamplePatch(9.8, true)));
  auto r = RecordVerbalApproval(
      cr, config_, {"PROD", "sam", "eve", now_ - minutes(10), "deploy after 18:00"}, now_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, "cr.approve_verbal");
  EXPECT_EQ(r->details,
            R"({"approver":"sam","at":"2026-11-30T08:50:00Z","conditions":"deploy after 18:00",)"
            R"("confirmation_due":"2026-12-01T08:50:00Z","environment":"PROD","recorded_by":"eve",)"
            R"("revision":1,"role":"security-lead","state":"in-progress","verbal":true})");
  cr = r->cr;
  EXPECT_EQ(
      RecordVerbalApproval(cr, config_, {"PROD", "carl", "eve", now_, ""}, now_).error().code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(RecordVerbalApproval(cr, config_, {"PROD", "opal", "eve", now_ + hours(1), ""}, now_)
                .error()
                .code(),
            StatusCode::kInvalidArgument);
  auto by_other = ConfirmVerbalApproval(cr, config_, "PROD", "opal", now_);
  EXPECT_EQ(by_other.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ConfirmVerbalApproval(cr, config_, "DEV", "sam", now_).error().code(),
            StatusCode::kNotFound);
  auto confirmed = ConfirmVerbalApproval(cr, config_, "PROD", "sam", now_ + hours(2));
  ASSERT_TRUE(confirmed.ok());
  EXPECT_EQ(confirmed->cr.approvals[0].confirmed_at, now_ + hours(2));
  EXPECT_EQ(confirmed->details,
            R"({"approved_at":"2026-11-30T08:50:00Z","approver":"sam","environment":"PROD",)"
            R"("late":false,"revision":1,"state":"in-progress"})");
}

TEST_F(CrLifecycleTest, OverdueConfirmationListedAndLateConfirmationMarked) {
  ChangeRequest cr = Submitted(SampleChangeRequest(config_, SamplePatch(9.8, true)));
  cr = Apply(RecordVerbalApproval(cr, config_, {"PROD", "chris", "eve", now_, ""}, now_));
  EXPECT_TRUE(OverdueConfirmations(cr, config_, now_ + hours(24) - seconds(1)).empty());
  auto overdue = OverdueConfirmations(cr, config_, now_ + hours(30));
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0].approver, "chris");
  EXPECT_EQ(overdue[0].environment, "PROD");
  EXPECT_EQ(overdue[0].due, now_ + hours(24));
  EXPECT_EQ(overdue[0].overdue_by, hours(6));
  auto late = ConfirmVerbalApproval(cr, config_, "PROD", "chris", now_ + hours(30));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(nlohmann::json::parse(late->details)["late"], true);
  EXPECT_TRUE(OverdueConfirmations(late->cr, config_, now_ + hours(30)).empty());
}

TEST_F(CrLifecycleTest, SignOffRules) {
  ChangeRequest cr = Submitted(draft_);
  auto unknown = SignOff(cr, config_, "TEST", "qa", "tina", now_);
  EXPECT_EQ(unknown.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.error().message(),
            "TEST has no sign-off 'qa': expected test-manager, business-analyst, uat");
  EXPECT_EQ(SignOff(cr, config_, "TEST", "uat", "tina", now_).error().code(),
            StatusCode::kPermissionDenied);
  cr = Apply(SignOff(cr, config_, "TEST", "uat", "bea", now_));
  EXPECT_EQ(cr.signoffs.back().role, "business-analyst");
  EXPECT_EQ(SignOff(cr, config_, "TEST", "uat", "bea", now_).error().code(), StatusCode::kConflict);
}

TEST_F(CrLifecycleTest, ScheduleRefusesThePast) {
  auto past = Schedule(draft_, config_, "PROD", now_ - minutes(1), "eve", now_);
  EXPECT_EQ(past.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(past.error().message(),
            "cannot schedule CR-1 for PROD in the past (2026-11-30T08:59:00Z is before "
            "2026-11-30T09:00:00Z)");
  auto r = Schedule(draft_, config_, "PROD", now_ + days(6), "eve", now_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cr.scheduled.at("PROD"), now_ + days(6));
  EXPECT_EQ(Schedule(draft_, config_, "QA", now_, "eve", now_).error().code(),
            StatusCode::kNotFound);
}

TEST_F(CrLifecycleTest, AttachmentValidation) {
  auto typo = AddAttachment(draft_, config_, Doc("security-impact-assesment"), now_);
  EXPECT_EQ(typo.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(typo.error().message(), HasSubstr("did you mean 'security-impact-assessment'?"));
  EXPECT_EQ(AddAttachment(draft_, config_, Doc("other", "xyz"), now_).error().code(),
            StatusCode::kInvalidArgument);
  ChangeRequest cr = Apply(AddAttachment(draft_, config_, Doc("release-notes"), now_));
  EXPECT_EQ(cr.attachments[0].added_at, now_);
  EXPECT_EQ(AddAttachment(cr, config_, Doc("release-notes"), now_).error().code(),
            StatusCode::kConflict);
}

TEST_F(CrLifecycleTest, EvidenceDrivesInProgressCompletedAndBack) {
  ChangeRequest cr = Submitted(draft_);
  Evidence dev{"DEV", kEvidenceDeployment, true, {}, "", {}, "system", now_, "run-1"};
  cr = Apply(RecordEvidence(cr, config_, dev, now_));
  EXPECT_EQ(cr.state, CrState::kInProgress);
  Evidence prod{"PROD", kEvidenceDeployment, true, {}, "", {}, "system", now_ + hours(1), "run-2"};
  cr = Apply(RecordEvidence(cr, config_, prod, now_ + hours(1)));
  EXPECT_EQ(cr.state, CrState::kCompleted);
  Evidence rollback{"PROD", kEvidenceRollback, true, {}, "", {}, "system", now_ + hours(2), ""};
  cr = Apply(RecordEvidence(cr, config_, rollback, now_ + hours(2)));
  EXPECT_EQ(cr.state, CrState::kInProgress);
  auto bad = RecordEvidence(cr, config_, {"DEV", "smoky", {}, {}, "", {}, "eve", now_, ""}, now_);
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("did you mean 'smoke'?"));
  EXPECT_EQ(
      RecordEvidence(cr, config_, {"QA", kEvidenceSmoke, {}, {}, "", {}, "eve", now_, ""}, now_)
          .error()
          .code(),
      StatusCode::kNotFound);
}

TEST_F(CrLifecycleTest, EvidenceAuditDetails) {
  ChangeRequest cr = Submitted(draft_);
  Evidence e{"TEST", kEvidenceRegression, true, 97.5, "412/423", {{"suite", "full"}}, "ed", {}, ""};
  auto r = RecordEvidence(cr, config_, e, now_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cr.evidence[0].at, now_);
  EXPECT_EQ(r->details,
            R"({"by":"ed","detail":"412/423","environment":"TEST","fields":{"suite":"full"},)"
            R"("kind":"regression","passed":true,"revision":1,"state":"submitted","value":97.5})");
}

TEST_F(CrLifecycleTest, CloseNeedsSuccessfulLastDeploymentAndConfirmations) {
  ChangeRequest cr = Submitted(SampleChangeRequest(config_, SamplePatch(9.8, true)));
  cr = Apply(RecordVerbalApproval(cr, config_, {"PROD", "chris", "eve", now_, ""}, now_));
  cr = Apply(RecordEvidence(
      cr, config_, {"PROD", kEvidenceDeployment, true, {}, "", {}, "system", now_, ""}, now_));
  ASSERT_EQ(cr.state, CrState::kCompleted);
  auto refused = Close(cr, config_, "opal", now_ + hours(25));
  EXPECT_EQ(refused.error().code(), StatusCode::kRefusedByGate);
  EXPECT_EQ(refused.error().message(),
            "cannot close CR-1: the verbal approval by chris for PROD is overdue for written "
            "confirmation (due 2026-12-01T09:00:00Z); the cab sign-off of PROD (cab-chair) is "
            "missing (rollgate cr signoff CR-1 --env PROD --kind cab); the post-incident review "
            "of the emergency deployment to PROD at 2026-11-30T09:00:00Z is not closed (rollgate "
            "pir close CR-1 --lessons FILE)");
  cr = Apply(ConfirmVerbalApproval(cr, config_, "PROD", "chris", now_ + hours(25)));
  // The review of the PROD deployment is the last thing missing (playbook §4.4 step 3, §5.4).
  auto review_open = Close(cr, config_, "opal", now_ + hours(26));
  EXPECT_EQ(review_open.error().code(), StatusCode::kRefusedByGate);
  EXPECT_THAT(review_open.error().message(),
              HasSubstr("the post-incident review of the emergency deployment to PROD"));
  FixedOffsetZone utc(Seconds(0));
  auto reviewed =
      ClosePir(cr, {}, config_, utc, "chris", {"patch earlier next time", ""}, now_ + hours(26));
  ASSERT_TRUE(reviewed.ok()) << reviewed.status().ToString();
  cr = reviewed->cr;
  // §4.3 step 2: PROD's own sign-off, the CAB Chair's, closes the change.
  auto unsigned_cr = Close(cr, config_, "opal", now_ + hours(26));
  EXPECT_EQ(unsigned_cr.error().code(), StatusCode::kRefusedByGate);
  EXPECT_EQ(unsigned_cr.error().message(),
            "cannot close CR-1: the cab sign-off of PROD (cab-chair) is missing (rollgate cr "
            "signoff CR-1 --env PROD --kind cab)");
  cr = Apply(SignOff(cr, config_, "PROD", "cab", "chris", now_ + hours(26)));
  auto closed = Close(cr, config_, "opal", now_ + hours(26));
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->cr.state, CrState::kClosed);
  EXPECT_EQ(closed->action, "cr.close");
}

}  // namespace
}  // namespace rollgate
