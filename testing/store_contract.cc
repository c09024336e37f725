#include "testing/store_contract.h"

#include <fmt/format.h>

#include <atomic>
#include <functional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "common/sha256.h"
#include "testing/fake_clock.h"

namespace rollgate::testing {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

Timestamp T(int minutes_after) { return MondayMorning() + minutes(minutes_after); }

ChangeRequestSummary SummaryOf(const std::vector<ChangeRequestSummary>& list,
                               const std::string& id) {
  for (const auto& summary : list) {
    if (summary.id == id) return summary;
  }
  ADD_FAILURE() << id << " is not in the list";
  return {};
}

std::vector<std::string> IdsOf(const Result<std::vector<ChangeRequestSummary>>& list) {
  std::vector<std::string> ids;
  if (!list.ok()) {
    ADD_FAILURE() << list.error().ToString();
    return ids;
  }
  for (const auto& summary : *list) ids.push_back(summary.id);
  return ids;
}

// Stores `crs` in one write; the test fails if it does not commit.
void PutAll(Store& store, const std::vector<ChangeRequest>& crs) {
  ASSERT_TRUE(store
                  .Write([&](Transaction& txn) {
                    for (const auto& cr : crs) RETURN_IF_ERROR(txn.PutChangeRequest(cr));
                    return Status::Ok();
                  })
                  .ok());
}

}  // namespace

void PrintTo(const StoreContractParam& param, std::ostream* out) { *out << param.name; }

std::string StoreContractParamName(const ::testing::TestParamInfo<StoreContractParam>& info) {
  return info.param.name;
}

std::filesystem::path MakeTempDirectory(std::string_view prefix) {
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto path = std::filesystem::temp_directory_path() /
                fmt::format("{}-{:08x}", prefix, static_cast<uint32_t>(random()));
    std::error_code error;
    if (std::filesystem::create_directory(path, error)) return path;
  }
  ADD_FAILURE() << "cannot create a temporary directory";
  return {};
}

void StoreContractTest::SetUp() {
  directory_ = MakeTempDirectory("rollgate-store-contract");
  auto store = GetParam().open(directory_);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  store_ = std::move(store).value();
}

void StoreContractTest::TearDown() {
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

std::unique_ptr<Store> StoreContractTest::OpenAgain() {
  auto store = GetParam().open(directory_);
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

Patch SamplePatch(int number) {
  Patch p;
  p.id = fmt::format("PATCH-{}", number);
  p.title = fmt::format("OpenSSL 3.0.{} security update", number);
  p.source = PatchSource::kSecurityTeam;
  p.cves = {"CVE-2026-1234", fmt::format("CVE-2026-{}", 10000 + number)};
  p.references = {"KB5012170", "https://vendor.example/advisory/42"};
  p.version = fmt::format("3.0.{}", number);
  p.cvss = {
      {"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "Critical"},
      {"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "Critical"}};
  p.exploited = true;
  p.declared_criteria = {EmergencyCriterion::kRegulatoryDirective,
                         EmergencyCriterion::kBusinessImpact};
  p.release_notes = "Fixes a buffer overflow.\nUnicode: \u00e9\u4e2d \"quoted\" \\ back\tslash";
  p.package = PackageInfo{"openssl-3.0.tar.gz",
                          Sha256Hex("package"),
                          123456789,
                          "https://vendor.example/openssl-3.0.tar.gz",
                          true,
                          "RWQf6LRCGA9i53mlYec"};
  p.classification.priority = Priority::kP1Critical;
  p.classification.reasons = {"active exploitation", "CVSS 9.8 >= 9.0"};
  p.classification.emergency = true;
  p.classification.emergency_criteria = {EmergencyCriterion::kActiveExploitation,
                                         EmergencyCriterion::kCvssCritical};
  p.classification.emergency_reasons = {"exploited in the wild"};
  p.classification.overridden = true;
  p.classification.computed_priority = Priority::kP2High;
  p.classification.override_justification = "vendor says critical";
  p.classification.overridden_by = "sam";
  p.created_by = "alice";
  p.created_at = T(number);
  p.advisory_format = "osv";
  p.advisory_id = fmt::format("GHSA-xxxx-{}", number);
  return p;
}

ChangeRequest SampleChangeRequest(int number) {
  ChangeRequest cr;
  cr.id = fmt::format("CR-{}", number);
  cr.number = number;
  cr.patch_id = "PATCH-1";
  cr.title = "[billing] - [Security] - [2026-11-30]";
  cr.classification = Priority::kP2High;
  cr.emergency = true;
  cr.description = "Apply the OpenSSL fix";
  cr.system = "billing";
  cr.affected_systems = {"billing", "invoicing"};
  cr.type = ChangeType::kSecurity;
  cr.implementation_plan = "1. stop\n2. install\n3. start";
  cr.rollback_plan = "restore the backup";
  cr.risk_assessment = "medium";
  cr.test_plan = "regression suite";
  cr.expected_downtime = minutes(15);
  cr.expected_duration = hours(2);
  cr.rollback_complexity = RollbackComplexity::kHigh;
  cr.requester = "alice";
  cr.created_at = T(0);
  cr.submitted_at = T(10);
  cr.scheduled = {{"DEV", T(60)}, {"PROD", T(60 * 24 * 8)}};
  cr.state = CrState::kInProgress;
  cr.revision = 3;
  cr.attachments = {{"release-notes", "notes.pdf", Sha256Hex("notes"), 2048, "bob", T(5)}};
  Approval written{"DEV", "dave", "development-lead", T(20), 3, false, "", "", std::nullopt, false};
  Approval verbal{"PROD", "carol", "cab-chair",        T(30),        3,
                  true,   "sam",   "only after 22:00", std::nullopt, true};
  Approval confirmed{"TEST", "tina", "test-manager", T(25), 2, true, "sam", "none", T(40), true};
  cr.approvals = {written, verbal, confirmed};
  cr.rejections = {{"TEST", "tom", T(15), "missing test plan"}};
  cr.signoffs = {{"DEV", "dev-lead", "dave", "development-lead", T(50), 3}};
  Evidence evidence;
  evidence.environment = "DEV";
  evidence.kind = kEvidenceRegression;
  evidence.passed = true;
  evidence.value = 97.25;
  evidence.detail = "412 of 424 passed";
  evidence.fields = {{"report", "junit.xml"}, {"suite", "full"}};
  evidence.recorded_by = "engine";
  evidence.at = T(55);
  evidence.run_id = "RUN-7";
  Evidence backup;
  backup.environment = "PROD";
  backup.kind = kEvidenceBackup;
  backup.passed = false;
  backup.recorded_by = "olga";
  backup.at = T(56);
  cr.evidence = {evidence, backup};
  EmergencyJustification justification;
  justification.incident = "CVE-2026-4242 exploited against billing's PDF renderer";
  justification.why_not_normal = "the 5-day CAB lead time leaves it open to the exploit";
  justification.cvss_score = 9.8;
  justification.cvss_source = "vendor advisory VSA-2026-11";
  justification.criteria = {"active exploitation confirmed in the wild"};
  justification.recorded_by = "olga";
  justification.recorded_at = T(54);
  cr.emergency_justification = justification;
  cr.cancel_reason = "not cancelled, but the field round-trips";
  cr.updated_at = T(57);
  return cr;
}

AuditRecord SampleAuditRecord(int n, std::string object) {
  return AuditRecord{T(n), n % 2 ? "alice" : "bob", "cr.update", std::move(object),
                     fmt::format(R"({{"n":{}}})", n)};
}

void ExpectSamePatch(const Patch& a, const Patch& e) {
  EXPECT_EQ(a.id, e.id);
  EXPECT_EQ(a.title, e.title);
  EXPECT_EQ(a.source, e.source);
  EXPECT_EQ(a.cves, e.cves);
  EXPECT_EQ(a.references, e.references);
  EXPECT_EQ(a.version, e.version);
  EXPECT_EQ(a.cvss, e.cvss);
  EXPECT_EQ(a.exploited, e.exploited);
  EXPECT_EQ(a.declared_criteria, e.declared_criteria);
  EXPECT_EQ(a.release_notes, e.release_notes);
  ASSERT_EQ(a.package.has_value(), e.package.has_value());
  if (e.package) {
    EXPECT_EQ(a.package->file_name, e.package->file_name);
    EXPECT_EQ(a.package->sha256, e.package->sha256);
    EXPECT_EQ(a.package->size_bytes, e.package->size_bytes);
    EXPECT_EQ(a.package->source_url, e.package->source_url);
    EXPECT_EQ(a.package->signature_verified, e.package->signature_verified);
    EXPECT_EQ(a.package->signing_key_id, e.package->signing_key_id);
  }
  EXPECT_EQ(a.classification.priority, e.classification.priority);
  EXPECT_EQ(a.classification.reasons, e.classification.reasons);
  EXPECT_EQ(a.classification.emergency, e.classification.emergency);
  EXPECT_EQ(a.classification.emergency_criteria, e.classification.emergency_criteria);
  EXPECT_EQ(a.classification.emergency_reasons, e.classification.emergency_reasons);
  EXPECT_EQ(a.classification.overridden, e.classification.overridden);
  EXPECT_EQ(a.classification.computed_priority, e.classification.computed_priority);
  EXPECT_EQ(a.classification.override_justification, e.classification.override_justification);
  EXPECT_EQ(a.classification.overridden_by, e.classification.overridden_by);
  EXPECT_EQ(a.created_by, e.created_by);
  EXPECT_EQ(a.created_at, e.created_at);
  EXPECT_EQ(a.advisory_format, e.advisory_format);
  EXPECT_EQ(a.advisory_id, e.advisory_id);
}

void ExpectSameChangeRequest(const ChangeRequest& a, const ChangeRequest& e) {
  EXPECT_EQ(a.id, e.id);
  EXPECT_EQ(a.number, e.number);
  EXPECT_EQ(a.patch_id, e.patch_id);
  EXPECT_EQ(a.title, e.title);
  EXPECT_EQ(a.classification, e.classification);
  EXPECT_EQ(a.emergency, e.emergency);
  EXPECT_EQ(a.description, e.description);
  EXPECT_EQ(a.system, e.system);
  EXPECT_EQ(a.affected_systems, e.affected_systems);
  EXPECT_EQ(a.type, e.type);
  EXPECT_EQ(a.implementation_plan, e.implementation_plan);
  EXPECT_EQ(a.rollback_plan, e.rollback_plan);
  EXPECT_EQ(a.risk_assessment, e.risk_assessment);
  EXPECT_EQ(a.test_plan, e.test_plan);
  EXPECT_EQ(a.expected_downtime, e.expected_downtime);
  EXPECT_EQ(a.expected_duration, e.expected_duration);
  EXPECT_EQ(a.rollback_complexity, e.rollback_complexity);
  EXPECT_EQ(a.requester, e.requester);
  EXPECT_EQ(a.created_at, e.created_at);
  EXPECT_EQ(a.submitted_at, e.submitted_at);
  EXPECT_EQ(a.scheduled, e.scheduled);
  EXPECT_EQ(a.state, e.state);
  EXPECT_EQ(a.revision, e.revision);
  ASSERT_EQ(a.attachments.size(), e.attachments.size());
  for (size_t i = 0; i < e.attachments.size(); ++i) {
    SCOPED_TRACE(fmt::format("attachment {}", i));
    EXPECT_EQ(a.attachments[i].kind, e.attachments[i].kind);
    EXPECT_EQ(a.attachments[i].file_name, e.attachments[i].file_name);
    EXPECT_EQ(a.attachments[i].sha256, e.attachments[i].sha256);
    EXPECT_EQ(a.attachments[i].size_bytes, e.attachments[i].size_bytes);
    EXPECT_EQ(a.attachments[i].added_by, e.attachments[i].added_by);
    EXPECT_EQ(a.attachments[i].added_at, e.attachments[i].added_at);
  }
  ASSERT_EQ(a.approvals.size(), e.approvals.size());
  for (size_t i = 0; i < e.approvals.size(); ++i) {
    SCOPED_TRACE(fmt::format("approval {}", i));
    EXPECT_EQ(a.approvals[i].environment, e.approvals[i].environment);
    EXPECT_EQ(a.approvals[i].approver, e.approvals[i].approver);
    EXPECT_EQ(a.approvals[i].role, e.approvals[i].role);
    EXPECT_EQ(a.approvals[i].at, e.approvals[i].at);
    EXPECT_EQ(a.approvals[i].cr_revision, e.approvals[i].cr_revision);
    EXPECT_EQ(a.approvals[i].verbal, e.approvals[i].verbal);
    EXPECT_EQ(a.approvals[i].recorded_by, e.approvals[i].recorded_by);
    EXPECT_EQ(a.approvals[i].conditions, e.approvals[i].conditions);
    EXPECT_EQ(a.approvals[i].confirmed_at, e.approvals[i].confirmed_at);
    EXPECT_EQ(a.approvals[i].emergency, e.approvals[i].emergency);
  }
  ASSERT_EQ(a.rejections.size(), e.rejections.size());
  for (size_t i = 0; i < e.rejections.size(); ++i) {
    SCOPED_TRACE(fmt::format("rejection {}", i));
    EXPECT_EQ(a.rejections[i].environment, e.rejections[i].environment);
    EXPECT_EQ(a.rejections[i].person, e.rejections[i].person);
    EXPECT_EQ(a.rejections[i].at, e.rejections[i].at);
    EXPECT_EQ(a.rejections[i].reason, e.rejections[i].reason);
  }
  ASSERT_EQ(a.signoffs.size(), e.signoffs.size());
  for (size_t i = 0; i < e.signoffs.size(); ++i) {
    SCOPED_TRACE(fmt::format("signoff {}", i));
    EXPECT_EQ(a.signoffs[i].environment, e.signoffs[i].environment);
    EXPECT_EQ(a.signoffs[i].kind, e.signoffs[i].kind);
    EXPECT_EQ(a.signoffs[i].person, e.signoffs[i].person);
    EXPECT_EQ(a.signoffs[i].role, e.signoffs[i].role);
    EXPECT_EQ(a.signoffs[i].at, e.signoffs[i].at);
    EXPECT_EQ(a.signoffs[i].cr_revision, e.signoffs[i].cr_revision);
  }
  ASSERT_EQ(a.evidence.size(), e.evidence.size());
  for (size_t i = 0; i < e.evidence.size(); ++i) {
    SCOPED_TRACE(fmt::format("evidence {}", i));
    EXPECT_EQ(a.evidence[i].environment, e.evidence[i].environment);
    EXPECT_EQ(a.evidence[i].kind, e.evidence[i].kind);
    EXPECT_EQ(a.evidence[i].passed, e.evidence[i].passed);
    EXPECT_EQ(a.evidence[i].value, e.evidence[i].value);
    EXPECT_EQ(a.evidence[i].detail, e.evidence[i].detail);
    EXPECT_EQ(a.evidence[i].fields, e.evidence[i].fields);
    EXPECT_EQ(a.evidence[i].recorded_by, e.evidence[i].recorded_by);
    EXPECT_EQ(a.evidence[i].at, e.evidence[i].at);
    EXPECT_EQ(a.evidence[i].run_id, e.evidence[i].run_id);
  }
  ASSERT_EQ(a.emergency_justification.has_value(), e.emergency_justification.has_value());
  if (e.emergency_justification) {
    const EmergencyJustification& aj = *a.emergency_justification;
    const EmergencyJustification& ej = *e.emergency_justification;
    EXPECT_EQ(aj.incident, ej.incident);
    EXPECT_EQ(aj.why_not_normal, ej.why_not_normal);
    EXPECT_EQ(aj.cvss_score, ej.cvss_score);
    EXPECT_EQ(aj.cvss_source, ej.cvss_source);
    EXPECT_EQ(aj.criteria, ej.criteria);
    EXPECT_EQ(aj.recorded_by, ej.recorded_by);
    EXPECT_EQ(aj.recorded_at, ej.recorded_at);
  }
  EXPECT_EQ(a.cancel_reason, e.cancel_reason);
  EXPECT_EQ(a.updated_at, e.updated_at);
}

// ---------------------------------------------------------------------------------------------
// The contract.

TEST_P(StoreContractTest, NumbersIncrementPerKindAndSurviveReopening) {
  std::vector<int> numbers;
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    for (const char* kind : {"PATCH", "PATCH", "CR", "PATCH", "CR"}) {
                      ASSIGN_OR_RETURN(int n, txn.NextNumber(kind));
                      numbers.push_back(n);
                    }
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(numbers, (std::vector<int>{1, 2, 1, 3, 2}));
  store_.reset();
  store_ = OpenAgain();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(int n, txn.NextNumber("CR"));
                    EXPECT_EQ(n, 3);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, NumberTakenInAFailedWriteIsNotConsumed) {
  Status failed = store_->Write([](Transaction& txn) {
    EXPECT_EQ(txn.NextNumber("CR").value_or(0), 1);
    return Failed("body failed");
  });
  EXPECT_EQ(failed.code(), StatusCode::kFailed);
  ASSERT_TRUE(store_
                  ->Write([](Transaction& txn) {
                    EXPECT_EQ(txn.NextNumber("CR").value_or(0), 1);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, EmptyCounterKindIsRefused) {
  Status status = store_->Write([](Transaction& txn) { return txn.NextNumber("").status(); });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreContractTest, PatchRoundTripsEveryField) {
  Patch patch = SamplePatch(7);
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutPatch(patch); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(Patch stored, txn.GetPatch("PATCH-7"));
                    ExpectSamePatch(stored, patch);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, PatchWithoutOptionalPartsRoundTrips) {
  Patch patch;
  patch.id = "PATCH-1";
  patch.title = "minimal";
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutPatch(patch); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(Patch stored, txn.GetPatch("PATCH-1"));
                    ExpectSamePatch(stored, patch);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, PutPatchReplacesAndListsInNumberOrder) {
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    for (int n : {10, 2, 1}) RETURN_IF_ERROR(txn.PutPatch(SamplePatch(n)));
                    Patch changed = SamplePatch(2);
                    changed.title = "changed";
                    return txn.PutPatch(changed);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(std::vector<Patch> patches, txn.ListPatches());
                    std::vector<std::string> ids;
                    ids.reserve(patches.size());
                    for (const auto& p : patches) ids.push_back(p.id);
                    EXPECT_EQ(ids, (std::vector<std::string>{"PATCH-1", "PATCH-2", "PATCH-10"}));
                    EXPECT_EQ(patches[1].title, "changed");
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, ChangeRequestRoundTripsEveryField) {
  ChangeRequest cr = SampleChangeRequest(12);
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutChangeRequest(cr); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(ChangeRequest stored, txn.GetChangeRequest("CR-12"));
                    ExpectSameChangeRequest(stored, cr);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, SummaryCarriesTheListedFields) {
  ChangeRequest cr = SampleChangeRequest(3);
  PutAll(*store_, {cr});
  Result<std::vector<ChangeRequestSummary>> list = Status(StatusCode::kInternal, "unset");
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    list = txn.ListChangeRequests({});
                    return list.status();
                  })
                  .ok());
  ASSERT_EQ(list->size(), 1u);
  const ChangeRequestSummary& s = list->front();
  EXPECT_EQ(s.id, "CR-3");
  EXPECT_EQ(s.number, 3);
  EXPECT_EQ(s.title, cr.title);
  EXPECT_EQ(s.system, "billing");
  EXPECT_EQ(s.classification, Priority::kP2High);
  EXPECT_TRUE(s.emergency);
  EXPECT_EQ(s.state, CrState::kInProgress);
  EXPECT_EQ(s.requester, "alice");
  EXPECT_EQ(s.created_at, cr.created_at);
  EXPECT_EQ(s.updated_at, cr.updated_at);
  EXPECT_TRUE(s.has_unconfirmed_verbal);
  // Only the PROD verbal approval (at T(30)) is unconfirmed; TEST's was confirmed.
  EXPECT_EQ(s.next_deadline, T(30) + kVerbalConfirmationDue);
}

TEST_P(StoreContractTest, ListFiltersByStateSystemClassificationVerbalAndLimit) {
  std::vector<ChangeRequest> crs;
  for (int n = 1; n <= 8; ++n) {
    ChangeRequest cr = SampleChangeRequest(n);
    cr.state = n % 2 ? CrState::kSubmitted : CrState::kDraft;
    cr.system = n <= 4 ? "billing" : "crm";
    cr.classification = n % 4 == 0 ? Priority::kP1Critical : Priority::kP3Moderate;
    if (n != 3 && n != 6) {
      for (auto& approval : cr.approvals) approval.confirmed_at = T(100);
    }
    crs.push_back(cr);
  }
  PutAll(*store_, crs);
  ASSERT_TRUE(
      store_
          ->Read([&](Transaction& txn) {
            using Ids = std::vector<std::string>;
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({})),
                      (Ids{"CR-1", "CR-2", "CR-3", "CR-4", "CR-5", "CR-6", "CR-7", "CR-8"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.state = CrState::kSubmitted})),
                      (Ids{"CR-1", "CR-3", "CR-5", "CR-7"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.system = "crm"})),
                      (Ids{"CR-5", "CR-6", "CR-7", "CR-8"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.classification = Priority::kP1Critical})),
                      (Ids{"CR-4", "CR-8"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.only_unconfirmed_verbal = true})),
                      (Ids{"CR-3", "CR-6"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.limit = 3})), (Ids{"CR-1", "CR-2", "CR-3"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.limit = 0})), Ids{});
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.state = CrState::kDraft,
                                                    .system = "crm",
                                                    .classification = Priority::kP1Critical})),
                      (Ids{"CR-8"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests(
                          {.system = "billing", .only_unconfirmed_verbal = true, .limit = 5})),
                      (Ids{"CR-3"}));
            EXPECT_EQ(IdsOf(txn.ListChangeRequests({.system = "nowhere"})), Ids{});
            EXPECT_EQ(txn.ListChangeRequests({.limit = -1}).status().code(),
                      StatusCode::kInvalidArgument);
            return Status::Ok();
          })
          .ok());
}

TEST_P(StoreContractTest, ReplacingAChangeRequestUpdatesItsSummary) {
  ChangeRequest cr = SampleChangeRequest(1);
  PutAll(*store_, {cr});
  cr.state = CrState::kClosed;
  for (auto& approval : cr.approvals) approval.confirmed_at = T(200);
  PutAll(*store_, {cr});
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(auto list, txn.ListChangeRequests({}));
                    EXPECT_EQ(list.size(), 1u);
                    ChangeRequestSummary s = SummaryOf(list, "CR-1");
                    EXPECT_EQ(s.state, CrState::kClosed);
                    EXPECT_FALSE(s.has_unconfirmed_verbal);
                    EXPECT_EQ(s.next_deadline, std::nullopt);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, TwoChangeRequestsCannotShareANumber) {
  PutAll(*store_, {SampleChangeRequest(1)});
  ChangeRequest other = SampleChangeRequest(1);
  other.id = "CR-other";
  Status status = store_->Write([&](Transaction& txn) { return txn.PutChangeRequest(other); });
  EXPECT_EQ(status.code(), StatusCode::kConflict) << status.ToString();
}

TEST_P(StoreContractTest, AggregatesWithoutIdsAreRefused) {
  EXPECT_EQ(store_->Write([](Transaction& txn) { return txn.PutPatch(Patch{}); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store_->Write([](Transaction& txn) { return txn.PutChangeRequest(ChangeRequest{}); }).code(),
      StatusCode::kInvalidArgument);
}

TEST_P(StoreContractTest, TextThatIsNotUtf8IsRefusedNotMangled) {
  Patch patch = SamplePatch(1);
  patch.title = "bad \xff\xfe";
  Status status = store_->Write([&](Transaction& txn) { return txn.PutPatch(patch); });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
}

TEST_P(StoreContractTest, BlobsAreStoredOncePerContent) {
  std::string content(100000, 'x');
  std::string address = Sha256Hex(content);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        store_->Write([&](Transaction& txn) { return txn.PutBlob(address, content); }).ok());
  }
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(std::string stored, txn.GetBlob(address));
                    EXPECT_EQ(stored, content);
                    return Status::Ok();
                  })
                  .ok());
  Status wrong = store_->Write([&](Transaction& txn) { return txn.PutBlob(address, "other"); });
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  const std::string binary = std::string("\0\x01\xff zero bytes", 14);
  ASSERT_TRUE(
      store_->Write([&](Transaction& txn) { return txn.PutBlob(Sha256Hex(binary), binary); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(std::string stored, txn.GetBlob(Sha256Hex(binary)));
                    EXPECT_EQ(stored, binary);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, MissingObjectsAreNotFound) {
  ASSERT_TRUE(
      store_
          ->Read([](Transaction& txn) {
            EXPECT_EQ(txn.GetPatch("PATCH-404").status().code(), StatusCode::kNotFound);
            EXPECT_EQ(txn.GetChangeRequest("CR-404").status().code(), StatusCode::kNotFound);
            EXPECT_EQ(txn.GetBlob(Sha256Hex("absent")).status().code(), StatusCode::kNotFound);
            EXPECT_NE(txn.GetChangeRequest("CR-404").status().message().find("CR-404"),
                      std::string::npos);
            return Status::Ok();
          })
          .ok());
  auto events = store_->AuditEventsFor("CR-404");
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

namespace {

// Writes everything a command might write, then ends with `end`.
Status WriteEverythingThen(Transaction& txn, const std::function<Status()>& end) {
  RETURN_IF_ERROR(txn.NextNumber("CR").status());
  RETURN_IF_ERROR(txn.PutPatch(SamplePatch(1)));
  RETURN_IF_ERROR(txn.PutChangeRequest(SampleChangeRequest(1)));
  RETURN_IF_ERROR(txn.PutBlob(Sha256Hex("doc"), "doc"));
  RETURN_IF_ERROR(txn.AppendAudit(SampleAuditRecord(1)).status());
  return end();
}

void ExpectEmpty(Store& store) {
  ASSERT_TRUE(store
                  .Read([](Transaction& txn) {
                    EXPECT_EQ(txn.GetPatch("PATCH-1").status().code(), StatusCode::kNotFound);
                    EXPECT_EQ(txn.GetChangeRequest("CR-1").status().code(), StatusCode::kNotFound);
                    EXPECT_EQ(txn.GetBlob(Sha256Hex("doc")).status().code(), StatusCode::kNotFound);
                    EXPECT_TRUE(txn.ListChangeRequests({}).value().empty());
                    return Status::Ok();
                  })
                  .ok());
  auto verification = store.VerifyAudit();
  ASSERT_TRUE(verification.ok());
  EXPECT_EQ(verification->events, 0);
  ASSERT_TRUE(store
                  .Write([](Transaction& txn) {
                    EXPECT_EQ(txn.NextNumber("CR").value_or(0), 1);
                    return Failed("only looking");
                  })
                  .code() == StatusCode::kFailed);
}

}  // namespace

TEST_P(StoreContractTest, FailedBodyRollsBackEverythingIncludingTheAuditEvent) {
  Status status = store_->Write(
      [](Transaction& txn) { return WriteEverythingThen(txn, [] { return Conflict("nope"); }); });
  EXPECT_EQ(status, Conflict("nope"));
  ExpectEmpty(*store_);
}

TEST_P(StoreContractTest, ThrowingBodyRollsBackAndBecomesInternal) {
  Status status = store_->Write([](Transaction& txn) {
    return WriteEverythingThen(txn, []() -> Status { throw std::runtime_error("boom"); });
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("boom"), std::string::npos);
  ExpectEmpty(*store_);
}

TEST_P(StoreContractTest, ReadTransactionsCannotChangeAnything) {
  Status status = store_->Read([](Transaction& txn) {
    EXPECT_EQ(txn.PutPatch(SamplePatch(1)).code(), StatusCode::kInternal);
    EXPECT_EQ(txn.PutChangeRequest(SampleChangeRequest(1)).code(), StatusCode::kInternal);
    EXPECT_EQ(txn.PutBlob(Sha256Hex("doc"), "doc").code(), StatusCode::kInternal);
    EXPECT_EQ(txn.NextNumber("CR").status().code(), StatusCode::kInternal);
    EXPECT_EQ(txn.AppendAudit(SampleAuditRecord(1)).status().code(), StatusCode::kInternal);
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok());
  ExpectEmpty(*store_);
}

TEST_P(StoreContractTest, TransactionsDoNotNest) {
  Status status = store_->Write([&](Transaction&) {
    EXPECT_EQ(store_->Write([](Transaction&) { return Status::Ok(); }).code(),
              StatusCode::kInternal);
    EXPECT_EQ(store_->Read([](Transaction&) { return Status::Ok(); }).code(),
              StatusCode::kInternal);
    EXPECT_EQ(store_->VerifyAudit().status().code(), StatusCode::kInternal);
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  // The store is usable afterwards.
  EXPECT_TRUE(store_->Write([](Transaction& txn) { return txn.PutPatch(SamplePatch(1)); }).ok());
}

TEST_P(StoreContractTest, EmptyChainVerifies) {
  auto verification = store_->VerifyAudit();
  ASSERT_TRUE(verification.ok());
  EXPECT_TRUE(verification->ok);
  EXPECT_EQ(verification->events, 0);
  EXPECT_EQ(verification->head_seq, 0);
  EXPECT_EQ(verification->head_hash, kAuditGenesisHash);
}

TEST_P(StoreContractTest, AuditEventsChainVerifyAndAreListedByObject) {
  ASSERT_TRUE(store_
                  ->Write([](Transaction& txn) {
                    for (int n = 1; n <= 3; ++n) {
                      ASSIGN_OR_RETURN(int64_t seq, txn.AppendAudit(SampleAuditRecord(n)));
                      EXPECT_EQ(seq, n);
                    }
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Write([](Transaction& txn) {
                    EXPECT_EQ(txn.AppendAudit(SampleAuditRecord(4, "CR-2")).value_or(0), 4);
                    AuditRecord no_details = SampleAuditRecord(5, "PATCH-1");
                    no_details.details.clear();
                    EXPECT_EQ(txn.AppendAudit(no_details).value_or(0), 5);
                    return Status::Ok();
                  })
                  .ok());
  auto verification = store_->VerifyAudit();
  ASSERT_TRUE(verification.ok());
  EXPECT_TRUE(verification->ok) << verification->reason;
  EXPECT_EQ(verification->events, 5);
  EXPECT_EQ(verification->head_seq, 5);
  EXPECT_EQ(verification->first_bad, std::nullopt);

  std::vector<AuditEvent> all;
  ASSERT_TRUE(store_
                  ->ForEachAuditEvent([&](const AuditEvent& event) {
                    all.push_back(event);
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].prev_hash, kAuditGenesisHash);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(all[i].hash, ComputeAuditHash(all[i]));
    if (i > 0) {
      EXPECT_EQ(all[i].prev_hash, all[i - 1].hash);
    }
  }
  EXPECT_EQ(all[1].actor, "bob");
  EXPECT_EQ(all[1].action, "cr.update");
  EXPECT_EQ(all[1].details, R"({"n":2})");
  EXPECT_EQ(all[1].at, T(2));
  EXPECT_EQ(all[4].details, "{}");
  EXPECT_EQ(verification->head_hash, all[4].hash);

  auto for_cr1 = store_->AuditEventsFor("CR-1");
  ASSERT_TRUE(for_cr1.ok());
  ASSERT_EQ(for_cr1->size(), 3u);
  EXPECT_EQ((*for_cr1)[2].seq, 3);
  EXPECT_EQ((*for_cr1)[2].hash, all[2].hash);
  EXPECT_EQ(store_->AuditEventsFor("CR-2")->size(), 1u);

  int seen = 0;
  Status stopped = store_->ForEachAuditEvent(
      [&](const AuditEvent&) { return ++seen == 2 ? Failed("sink full") : Status::Ok(); });
  EXPECT_EQ(stopped, Failed("sink full"));
  EXPECT_EQ(seen, 2);
}

TEST_P(StoreContractTest, AuditEventWithoutActorOrActionIsRefused) {
  Status status = store_->Write([](Transaction& txn) {
    AuditRecord record = SampleAuditRecord(1);
    record.actor.clear();
    return txn.AppendAudit(record).status();
  });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreContractTest, SecondStoreOnTheSameDataSeesCommittedWrites) {
  std::unique_ptr<Store> other = OpenAgain();
  ASSERT_NE(other, nullptr);
  PutAll(*store_, {SampleChangeRequest(1)});
  ASSERT_TRUE(
      other->Read([](Transaction& txn) { return txn.GetChangeRequest("CR-1").status(); }).ok());
}

TEST_P(StoreContractTest, ConcurrentWritersFromTwoStoresLoseNoUpdate) {
  PutAll(*store_, {SampleChangeRequest(1)});
  std::unique_ptr<Store> other = OpenAgain();
  ASSERT_NE(other, nullptr);
  constexpr int kWritesEach = 40;
  const int start_revision = SampleChangeRequest(1).revision;
  std::atomic<int> failures{0};
  // Read-modify-write of the same CR plus an audit event: a lost update would show as a missing
  // revision or a broken chain.
  auto writer = [&](Store& store, std::string actor) {
    for (int i = 0; i < kWritesEach; ++i) {
      Status status = store.Write([&](Transaction& txn) {
        ASSIGN_OR_RETURN(ChangeRequest cr, txn.GetChangeRequest("CR-1"));
        cr.revision += 1;
        RETURN_IF_ERROR(txn.PutChangeRequest(cr));
        RETURN_IF_ERROR(txn.NextNumber("TICK").status());
        return txn.AppendAudit(AuditRecord{T(i), actor, "cr.update", "CR-1", "{}"}).status();
      });
      if (!status.ok()) {
        ++failures;
        ADD_FAILURE() << status.ToString();
      }
    }
  };
  std::thread first(writer, std::ref(*store_), "alice");
  std::thread second(writer, std::ref(*other), "bob");
  first.join();
  second.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    ASSIGN_OR_RETURN(ChangeRequest cr, txn.GetChangeRequest("CR-1"));
                    EXPECT_EQ(cr.revision, start_revision + 2 * kWritesEach);
                    EXPECT_EQ(txn.NextNumber("TICK").value_or(0), 2 * kWritesEach + 1);
                    return Status::Ok();
                  })
                  .ok());
  auto verification = store_->VerifyAudit();
  ASSERT_TRUE(verification.ok());
  EXPECT_TRUE(verification->ok) << verification->reason;
  EXPECT_EQ(verification->events, 2 * kWritesEach);
}

TEST_P(StoreContractTest, IntegrityCheckPassesOnAHealthyStore) {
  PutAll(*store_, {SampleChangeRequest(1), SampleChangeRequest(2)});
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

// --- Runs, step executions and run locks (schema version 2) ---

::rollgate::Run SampleRun(int number) {
  ::rollgate::Run run;
  run.id = fmt::format("RUN-{}", number);
  run.change_request = fmt::format("CR-{}", number);
  run.environment = "PROD";
  run.system = "billing";
  run.state = RunState::kRunning;
  run.plan_json = R"({"phases":[]})";
  run.transport = "simulated";
  run.created_by = "alice";
  run.created_at = T(number);
  run.started_at = T(number + 1);
  run.owner_pid = 4242;
  run.owner_host = "orchestrator";
  run.owner_token = "token-1";
  run.fencing_token = 3;
  run.heartbeat_at = T(number + 2);
  run.lease_expires_at = T(number + 7);
  run.message = "in progress";
  run.attention = "check db1: is the service stopped?";
  return run;
}

StepExecution SampleExecution(const std::string& run_id, const std::string& host, int attempt) {
  StepExecution e;
  e.run_id = run_id;
  e.phase = 1;
  e.step = 2;
  e.step_name = "deploy/install";
  e.host = host;
  e.attempt = attempt;
  e.state = StepState::kIntent;
  e.started_at = T(3);
  e.status_file = fmt::format("/var/tmp/rollgate/{}/1-2-{}-{}.status", run_id, host, attempt);
  e.evidence = "";
  return e;
}

TEST_P(StoreContractTest, RunRoundTripsEveryFieldAndListsNewestFirst) {
  ::rollgate::Run run = SampleRun(1);
  run.finished_at = T(9);
  run.cancel_requested = true;
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    RETURN_IF_ERROR(txn.PutRun(run));
                    return txn.PutRun(SampleRun(2));
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(::rollgate::Run got, txn.GetRun("RUN-1"));
                    EXPECT_EQ(got.change_request, run.change_request);
                    EXPECT_EQ(got.environment, run.environment);
                    EXPECT_EQ(got.system, run.system);
                    EXPECT_EQ(got.state, run.state);
                    EXPECT_EQ(got.plan_json, run.plan_json);
                    EXPECT_EQ(got.transport, run.transport);
                    EXPECT_EQ(got.created_by, run.created_by);
                    EXPECT_EQ(got.created_at, run.created_at);
                    EXPECT_EQ(got.started_at, run.started_at);
                    EXPECT_EQ(got.finished_at, run.finished_at);
                    EXPECT_EQ(got.owner_pid, run.owner_pid);
                    EXPECT_EQ(got.owner_host, run.owner_host);
                    EXPECT_EQ(got.owner_token, run.owner_token);
                    EXPECT_EQ(got.fencing_token, run.fencing_token);
                    EXPECT_EQ(got.heartbeat_at, run.heartbeat_at);
                    EXPECT_EQ(got.lease_expires_at, run.lease_expires_at);
                    EXPECT_TRUE(got.cancel_requested);
                    EXPECT_EQ(got.message, run.message);
                    EXPECT_EQ(got.attention, run.attention);
                    ASSIGN_OR_RETURN(auto list, txn.ListRuns(std::nullopt));
                    EXPECT_EQ(list.size(), 2U);
                    if (list.size() == 2) {
                      EXPECT_EQ(list[0].id, "RUN-2");
                      EXPECT_EQ(list[1].finished_at, run.finished_at);
                    }
                    ASSIGN_OR_RETURN(auto one, txn.ListRuns(1));
                    EXPECT_EQ(one.size(), 1U);
                    EXPECT_EQ(txn.GetRun("RUN-9").status().code(), StatusCode::kNotFound);
                    EXPECT_EQ(txn.ListRuns(-1).status().code(), StatusCode::kInvalidArgument);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, StepExecutionIntentThenResultKeepsItsPlace) {
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    RETURN_IF_ERROR(txn.PutRun(SampleRun(1)));
                    RETURN_IF_ERROR(txn.PutStepExecution(SampleExecution("RUN-1", "web1", 1)));
                    return txn.PutStepExecution(SampleExecution("RUN-1", "web2", 1));
                  })
                  .ok());
  StepExecution result = SampleExecution("RUN-1", "web1", 1);
  result.state = StepState::kSucceeded;
  result.finished_at = T(4);
  result.exit_code = 0;
  result.output_tail = "installed\n";
  result.probe_exit_code = 0;
  result.evidence = "exit-status file";
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutStepExecution(result); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(auto list, txn.ListStepExecutions("RUN-1"));
                    EXPECT_EQ(list.size(), 2U);
                    if (list.size() != 2) return Status::Ok();
                    EXPECT_EQ(list[0].host, "web1");
                    EXPECT_EQ(list[0].state, StepState::kSucceeded);
                    EXPECT_EQ(list[0].exit_code, 0);
                    EXPECT_EQ(list[0].output_tail, "installed\n");
                    EXPECT_EQ(list[0].probe_exit_code, 0);
                    EXPECT_EQ(list[0].evidence, "exit-status file");
                    EXPECT_EQ(list[0].finished_at, T(4));
                    EXPECT_EQ(list[0].status_file, result.status_file);
                    EXPECT_EQ(list[0].step_name, "deploy/install");
                    EXPECT_EQ(list[0].phase, 1);
                    EXPECT_EQ(list[0].step, 2);
                    EXPECT_EQ(list[1].host, "web2");
                    EXPECT_EQ(list[1].state, StepState::kIntent);
                    EXPECT_FALSE(list[1].exit_code.has_value());
                    ASSIGN_OR_RETURN(auto none, txn.ListStepExecutions("RUN-2"));
                    EXPECT_TRUE(none.empty());
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, StepExecutionNeedsAnExistingRunAndAValidAttempt) {
  Status status = store_->Write(
      [&](Transaction& txn) { return txn.PutStepExecution(SampleExecution("RUN-7", "h", 1)); });
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  status = store_->Write([&](Transaction& txn) {
    RETURN_IF_ERROR(txn.PutRun(SampleRun(1)));
    return txn.PutStepExecution(SampleExecution("RUN-1", "h", 0));
  });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Write([&](Transaction& txn) { return txn.PutRun(::rollgate::Run{}); }).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(StoreContractTest, RunRevisionRisesWithEveryChangeToWhatItsDocumentShows) {
  ::rollgate::Run run = SampleRun(1);  // of CR-1
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    RETURN_IF_ERROR(txn.PutChangeRequest(SampleChangeRequest(1)));
                    RETURN_IF_ERROR(txn.PutChangeRequest(SampleChangeRequest(2)));
                    RETURN_IF_ERROR(txn.PutRun(run));
                    return txn.PutRun(SampleRun(2));
                  })
                  .ok());
  auto revision = [&](const std::string& id) {
    int64_t value = -1;
    Status read = store_->Read([&](Transaction& txn) -> Status {
      ASSIGN_OR_RETURN(value, txn.GetRunRevision(id));
      return Status::Ok();
    });
    EXPECT_TRUE(read.ok()) << read.ToString();
    return value;
  };
  auto write = [&](const std::function<Status(Transaction&)>& body) {
    Status written = store_->Write(body);
    ASSERT_TRUE(written.ok()) << written.ToString();
  };
  int64_t last = revision("RUN-1");
  // Each change to RUN-1, its step executions or its CR raises it...
  std::vector<std::pair<std::string, std::function<Status(Transaction&)>>> changes = {
      {"run",
       [&](Transaction& txn) {
         run.message = "halfway";
         return txn.PutRun(run);
       }},
      {"step intent",
       [&](Transaction& txn) { return txn.PutStepExecution(SampleExecution("RUN-1", "h1", 1)); }},
      {"step result",
       [&](Transaction& txn) {
         StepExecution done = SampleExecution("RUN-1", "h1", 1);
         done.state = StepState::kSucceeded;
         return txn.PutStepExecution(done);
       }},
      {"the same run again", [&](Transaction& txn) { return txn.PutRun(run); }},
      {"its CR", [&](Transaction& txn) {
         ChangeRequest cr = SampleChangeRequest(1);
         cr.title = "retitled";
         return txn.PutChangeRequest(cr);
       }}};
  for (const auto& [what, change] : changes) {
    write(change);
    int64_t now = revision("RUN-1");
    EXPECT_GT(now, last) << what;
    last = now;
  }
  // ... and nothing else does: another run, its steps, another CR, anything else.
  write([&](Transaction& txn) {
    ::rollgate::Run other = SampleRun(2);
    other.message = "elsewhere";
    RETURN_IF_ERROR(txn.PutRun(other));
    RETURN_IF_ERROR(txn.PutStepExecution(SampleExecution("RUN-2", "h1", 1)));
    ChangeRequest cr = SampleChangeRequest(2);
    cr.title = "another";
    RETURN_IF_ERROR(txn.PutChangeRequest(cr));
    return txn.PutPatch(SamplePatch(3));
  });
  EXPECT_EQ(revision("RUN-1"), last);
  // Reopening keeps it.
  store_ = OpenAgain();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(revision("RUN-1"), last);
  EXPECT_EQ(
      store_->Read([&](Transaction& txn) { return txn.GetRunRevision("RUN-9").status(); }).code(),
      StatusCode::kNotFound);
}

TEST_P(StoreContractTest, RunLockFencingTokenNeverGoesBack) {
  RunLock lock;
  lock.system = "billing";
  lock.environment = "PROD";
  lock.run_id = "RUN-1";
  lock.owner_pid = 10;
  lock.owner_host = "a";
  lock.owner_token = "t1";
  lock.fencing_token = 1;
  lock.acquired_at = T(0);
  lock.lease_expires_at = T(5);
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutRunLock(lock); }).ok());
  RunLock takeover = lock;
  takeover.run_id = "RUN-1";
  takeover.owner_pid = 11;
  takeover.fencing_token = 2;
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutRunLock(takeover); }).ok());
  EXPECT_EQ(store_->Write([&](Transaction& txn) { return txn.PutRunLock(lock); }).code(),
            StatusCode::kConflict);
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(auto got, txn.GetRunLock("billing", "PROD"));
                    EXPECT_TRUE(got.has_value());
                    if (got) {
                      EXPECT_EQ(got->owner_pid, 11);
                      EXPECT_EQ(got->fencing_token, 2);
                      EXPECT_EQ(got->lease_expires_at, T(5));
                      EXPECT_EQ(got->owner_token, "t1");
                    }
                    ASSIGN_OR_RETURN(auto none, txn.GetRunLock("billing", "TEST"));
                    EXPECT_FALSE(none.has_value());
                    return Status::Ok();
                  })
                  .ok());
}

namespace {

// A watch with every field set to a non-default value.
Watch SampleWatch(const std::string& cr, const std::string& run, Timestamp started) {
  Thresholds thresholds;
  Watch w = NewWatch(cr, "PROD", run, "billing", true, 123.5, thresholds, started);
  w.next_probe_at = started + std::chrono::minutes(5);
  w.last_checkin_at = started + std::chrono::hours(1);
  w.summary = "availability 100.0 %";
  w.fired_detail = "health failing on app1";
  w.stop_reason = "stopped by opal";
  w.response_pending = true;
  w.fired_at = started + std::chrono::minutes(3);
  w.updated_at = started + std::chrono::minutes(4);
  AddSample(w, {started, "app1", true, 12.5}, std::chrono::minutes(10));
  AddSample(w, {started + std::chrono::seconds(1), "app2", false, std::nullopt},
            std::chrono::minutes(10));
  AddCounterReading(w, "app1", {started, 100, 1});
  AddCounterReading(w, "app1", {started + std::chrono::minutes(1), 200, 3});
  return w;
}

}  // namespace

TEST_P(StoreContractTest, WatchRoundTripsEveryFieldAndListsActiveOnes) {
  Watch watch = SampleWatch("CR-1", "RUN-1", T(1));
  Watch ended = SampleWatch("CR-2", "RUN-2", T(0));
  ended.state = WatchState::kEnded;
  Watch later = SampleWatch("CR-3", "RUN-3", T(2));
  later.next_probe_at = T(0);  // due first
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) {
                    RETURN_IF_ERROR(txn.PutWatch(watch));
                    RETURN_IF_ERROR(txn.PutWatch(ended));
                    return txn.PutWatch(later);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(Watch got, txn.GetWatch("CR-1", "PROD", "RUN-1"));
                    EXPECT_EQ(got.system, "billing");
                    EXPECT_EQ(got.state, WatchState::kActive);
                    EXPECT_TRUE(got.emergency);
                    EXPECT_EQ(got.started_at, watch.started_at);
                    EXPECT_EQ(got.ends_at, watch.ends_at);
                    EXPECT_EQ(got.interval, watch.interval);
                    EXPECT_EQ(got.checkins_until, watch.checkins_until);
                    EXPECT_EQ(got.next_probe_at, watch.next_probe_at);
                    EXPECT_EQ(got.last_checkin_at, watch.last_checkin_at);
                    EXPECT_EQ(got.baseline_ms, 123.5);
                    EXPECT_EQ(got.summary, watch.summary);
                    EXPECT_EQ(got.fired_detail, watch.fired_detail);
                    EXPECT_EQ(got.stop_reason, watch.stop_reason);
                    EXPECT_TRUE(got.response_pending);
                    EXPECT_EQ(got.fired_at, watch.fired_at);
                    EXPECT_EQ(got.updated_at, watch.updated_at);
                    EXPECT_EQ(got.samples, watch.samples);
                    EXPECT_EQ(got.probes, 2);
                    EXPECT_EQ(got.failed_probes, 1);
                    EXPECT_EQ(got.period_failed_by_host, watch.period_failed_by_host);
                    EXPECT_EQ(got.first_counters, watch.first_counters);
                    EXPECT_EQ(got.last_counters, watch.last_counters);
                    EXPECT_EQ(got.last_error_percent, 2.0);

                    ASSIGN_OR_RETURN(std::vector<Watch> active, txn.ListWatches(false));
                    EXPECT_EQ(active.size(), 2U);
                    if (active.size() == 2) {
                      EXPECT_EQ(active[0].change_request, "CR-3");
                      EXPECT_EQ(active[1].change_request, "CR-1");
                    }
                    ASSIGN_OR_RETURN(std::vector<Watch> all, txn.ListWatches(true));
                    EXPECT_EQ(all.size(), 3U);
                    if (all.size() == 3) {
                      EXPECT_EQ(all[0].change_request, "CR-2");
                    }
                    EXPECT_EQ(txn.GetWatch("CR-1", "PROD", "RUN-9").status().code(),
                              StatusCode::kNotFound);
                    return Status::Ok();
                  })
                  .ok());

  // Replacing keeps one row per (CR, environment, run).
  watch.state = WatchState::kFired;
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutWatch(watch); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(std::vector<Watch> all, txn.ListWatches(true));
                    EXPECT_EQ(all.size(), 3U);
                    ASSIGN_OR_RETURN(std::vector<Watch> active, txn.ListWatches(false));
                    EXPECT_EQ(active.size(), 1U);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, WatchWithoutKeyIsRefused) {
  Watch watch = SampleWatch("CR-1", "", T(1));
  Status status = store_->Write([&](Transaction& txn) { return txn.PutWatch(watch); });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  Status in_read = store_->Read(
      [&](Transaction& txn) { return txn.PutWatch(SampleWatch("CR-1", "RUN-1", T(1))); });
  EXPECT_EQ(in_read.code(), StatusCode::kInternal);
}

}  // namespace rollgate::testing

namespace rollgate::testing {

TEST_P(StoreContractTest, DiagnosticReportsRoundTripInOrderPerRun) {
  DiagnosticReport report;
  report.run_id = "RUN-1";
  report.failure = FailureClass::kServiceStart;
  report.reason = "the service step failed";
  report.transient = true;
  report.resolution = "rollback";
  report.resolution_detail = "playbook 7.1: Rollback if unresolvable";
  report.requested_by = "system";
  report.at = T(3);
  report.hosts = {"host1"};
  DiagnosticResult result;
  result.host = "host1";
  result.check = "ports";
  result.title = "Check port conflicts";
  result.command = "ss -Htlnp";
  result.exit_code = 0;
  result.output = "LISTEN 0 5 127.0.0.1:8080\nrollgate-port-held users:((\"nc\",pid=7))\n";
  result.highlights = {"port 8080 is held by another process: users:((\"nc\",pid=7))"};
  result.started = T(3);
  result.finished = T(4);
  report.results = {result, result};
  report.results[1].check = "step-output";
  report.results[1].exit_code.reset();
  DiagnosticReport second = report;
  second.automatic = false;
  second.requested_by = "alice";
  second.results.clear();
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) -> Status {
                    RETURN_IF_ERROR(txn.PutRun(SampleRun(1)));
                    RETURN_IF_ERROR(txn.PutRun(SampleRun(2)));
                    RETURN_IF_ERROR(txn.AddDiagnosticReport(report).status());
                    return txn.AddDiagnosticReport(second).status();
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(std::vector<DiagnosticReport> got,
                                     txn.ListDiagnosticReports("RUN-1"));
                    EXPECT_EQ(got.size(), 2u);
                    if (got.size() != 2u) return Status::Ok();
                    EXPECT_LT(got[0].id, got[1].id);
                    DiagnosticReport expected = report;
                    expected.id = got[0].id;
                    EXPECT_EQ(got[0], expected);
                    EXPECT_EQ(got[1].requested_by, "alice");
                    EXPECT_FALSE(got[1].automatic);
                    ASSIGN_OR_RETURN(std::vector<DiagnosticReport> none,
                                     txn.ListDiagnosticReports("RUN-2"));
                    EXPECT_TRUE(none.empty());
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, DiagnosticsOfAnUnknownRunOrInvalidTextAreRefused) {
  DiagnosticReport report;
  report.run_id = "RUN-9";
  Status unknown =
      store_->Write([&](Transaction& txn) { return txn.AddDiagnosticReport(report).status(); });
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  report.run_id = "RUN-1";
  report.reason = std::string("bad \xff byte");
  Status invalid = store_->Write([&](Transaction& txn) -> Status {
    RETURN_IF_ERROR(txn.PutRun(SampleRun(1)));
    return txn.AddDiagnosticReport(report).status();
  });
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidArgument);
  Status in_read =
      store_->Read([&](Transaction& txn) { return txn.AddDiagnosticReport(report).status(); });
  EXPECT_EQ(in_read.code(), StatusCode::kInternal);
}

TEST_P(StoreContractTest, TokensRoundTripAndAreFoundByHashOnly) {
  ApiToken token;
  token.id = "TOK-2";
  token.person = "alice";
  token.label = "dashboard";
  token.hash = std::string(64, 'a');
  token.created_by = "alice";
  token.created_at = T(1);
  token.expires_at = T(100);
  ApiToken other = token;
  other.id = "TOK-10";
  other.person = "bob";
  other.hash = std::string(64, 'b');
  other.expires_at.reset();
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) -> Status {
                    RETURN_IF_ERROR(txn.PutToken(other));
                    return txn.PutToken(token);
                  })
                  .ok());
  ApiToken revoked = token;
  revoked.revoked_at = T(5);
  revoked.revoked_by = "carol";
  revoked.last_used_at = T(4);
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutToken(revoked); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(ApiToken got, txn.GetTokenByHash(std::string(64, 'a')));
                    EXPECT_EQ(got.id, "TOK-2");
                    EXPECT_EQ(got.person, "alice");
                    EXPECT_EQ(got.label, "dashboard");
                    EXPECT_EQ(got.created_at, T(1));
                    EXPECT_EQ(got.expires_at, T(100));
                    EXPECT_EQ(got.revoked_at, T(5));
                    EXPECT_EQ(got.revoked_by, "carol");
                    EXPECT_EQ(got.last_used_at, T(4));
                    ASSIGN_OR_RETURN(ApiToken by_id, txn.GetToken("TOK-10"));
                    EXPECT_FALSE(by_id.expires_at.has_value());
                    EXPECT_FALSE(by_id.revoked_at.has_value());
                    Result<ApiToken> missing = txn.GetTokenByHash(std::string(64, 'c'));
                    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
                    EXPECT_EQ(missing.status().message().find("ccc"), std::string::npos);
                    EXPECT_EQ(txn.GetToken("TOK-3").status().code(), StatusCode::kNotFound);
                    ASSIGN_OR_RETURN(std::vector<ApiToken> all, txn.ListTokens());
                    EXPECT_EQ(all.size(), 2u);
                    if (all.size() == 2u) {
                      EXPECT_EQ(all[0].id, "TOK-2");  // by number, not by text
                      EXPECT_EQ(all[1].id, "TOK-10");
                    }
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, TokenWithAnotherTokensSecretOrNoPersonIsRefused) {
  ApiToken token;
  token.id = "TOK-1";
  token.person = "alice";
  token.hash = std::string(64, 'a');
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutToken(token); }).ok());
  ApiToken clash = token;
  clash.id = "TOK-2";
  EXPECT_EQ(store_->Write([&](Transaction& txn) { return txn.PutToken(clash); }).code(),
            StatusCode::kConflict);
  ApiToken nobody = token;
  nobody.id = "TOK-3";
  nobody.person.clear();
  nobody.hash = std::string(64, 'c');
  EXPECT_EQ(store_->Write([&](Transaction& txn) { return txn.PutToken(nobody); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Read([&](Transaction& txn) { return txn.PutToken(token); }).code(),
            StatusCode::kInternal);
}

}  // namespace rollgate::testing

namespace rollgate::testing {
namespace {

Page SamplePage(const std::string& id, Timestamp opened) {
  EscalationPath path{
      "production",
      {{1, "it-operations-on-call", minutes(15)}, {2, kRoleItOperationsManager, minutes(30)}}};
  Page page =
      OpenPage(path, id, "billing down", "5xx on every request", "CR-1", "PROD", "eve", opened)
          .value();
  page.events.push_back({opened, "notified", 1, "eve", "written to pages.log", true});
  return page;
}

}  // namespace

TEST_P(StoreContractTest, PageRoundTripsWithItsHistoryAndListsUnacknowledgedOnes) {
  Page first = SamplePage("PAGE-1", T(1));
  Page second = SamplePage("PAGE-2", T(2));
  Page exhausted = SamplePage("PAGE-3", T(3));
  exhausted.state = PageState::kExhausted;
  ASSERT_TRUE(store_
                  ->Write([&](Transaction& txn) -> Status {
                    RETURN_IF_ERROR(txn.PutPage(second));
                    RETURN_IF_ERROR(txn.PutPage(first));
                    return txn.PutPage(exhausted);
                  })
                  .ok());
  ASSERT_TRUE(Acknowledge(second, "opal", T(5)).ok());
  ASSERT_TRUE(store_->Write([&](Transaction& txn) { return txn.PutPage(second); }).ok());
  ASSERT_TRUE(store_
                  ->Read([&](Transaction& txn) -> Status {
                    ASSIGN_OR_RETURN(Page got, txn.GetPage("PAGE-2"));
                    EXPECT_EQ(PageToJson(got), PageToJson(second));
                    ASSIGN_OR_RETURN(std::vector<Page> all, txn.ListPages(false));
                    EXPECT_EQ(all.size(), 3u);
                    if (all.size() == 3u) {
                      EXPECT_EQ(all[0].id, "PAGE-1");  // by opening time
                    }
                    ASSIGN_OR_RETURN(std::vector<Page> open, txn.ListPages(true));
                    EXPECT_EQ(open.size(), 2u);
                    if (open.size() == 2u) {
                      EXPECT_EQ(open[1].id, "PAGE-3");
                    }
                    EXPECT_EQ(txn.GetPage("PAGE-9").status().code(), StatusCode::kNotFound);
                    return Status::Ok();
                  })
                  .ok());
}

TEST_P(StoreContractTest, PageWithoutIdOrWithInvalidTextIsRefused) {
  Page page = SamplePage("", T(1));
  EXPECT_EQ(store_->Write([&](Transaction& txn) { return txn.PutPage(page); }).code(),
            StatusCode::kInvalidArgument);
  page.id = "PAGE-1";
  page.subject = std::string("bad \xff byte");
  EXPECT_EQ(store_->Write([&](Transaction& txn) { return txn.PutPage(page); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Read([&](Transaction& txn) { return txn.PutPage(SamplePage("PAGE-1", T(1))); })
                .code(),
            StatusCode::kInternal);
}

}  // namespace rollgate::testing
