#include "store/serialization.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/store_contract.h"

namespace rollgate {
namespace {

using testing::ExpectSameChangeRequest;
using testing::ExpectSamePatch;
using ::testing::HasSubstr;
using testing::SampleChangeRequest;
using testing::SamplePatch;

TEST(SerializationTest, PatchRoundTripsEveryField) {
  Patch patch = SamplePatch(3);
  auto text = PatchToJson(patch);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto back = PatchFromJson(*text);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ExpectSamePatch(*back, patch);
  // And the text form is stable: writing what was read gives the same text.
  EXPECT_EQ(PatchToJson(*back).value(), *text);
}

TEST(SerializationTest, ChangeRequestRoundTripsEveryField) {
  ChangeRequest cr = SampleChangeRequest(9);
  auto text = ChangeRequestToJson(cr);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto back = ChangeRequestFromJson(*text);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ExpectSameChangeRequest(*back, cr);
  EXPECT_EQ(ChangeRequestToJson(*back).value(), *text);
}

TEST(SerializationTest, PatchKeepsAdvisoryAffectedProducts) {
  Patch patch = SamplePatch(4);
  AffectedPackage osv;
  osv.name = "invoicegen";
  osv.ecosystem = "PyPI";
  osv.versions = {"2.4.5"};
  osv.ranges = {{"ECOSYSTEM", {"2.0.0"}, {"2.4.7"}, {}}, {"SEMVER", {"3.0.0"}, {}, {"3.0.1"}}};
  AffectedPackage csaf;
  csaf.name = "Northwind Gateway 5.2.0";
  csaf.version = "5.2.0";
  csaf.fixed_versions = {"5.2.1"};
  patch.affected = {osv, csaf};
  auto back = PatchFromJson(PatchToJson(patch).value());
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->affected, patch.affected);
}

TEST(SerializationTest, PatchRowsWithoutAffectedProductsStillLoad) {
  auto json = nlohmann::json::parse(PatchToJson(SamplePatch(5)).value());
  EXPECT_FALSE(json.contains("affected"));  // nothing written when there is nothing
  json.erase("advisory_id");
  auto back = PatchFromJson(json.dump());
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_TRUE(back->affected.empty());
  EXPECT_EQ(back->id, SamplePatch(5).id);
}

TEST(SerializationTest, DefaultsRoundTrip) {
  auto patch = PatchFromJson(PatchToJson(Patch{}).value());
  ASSERT_TRUE(patch.ok());
  ExpectSamePatch(*patch, Patch{});
  auto cr = ChangeRequestFromJson(ChangeRequestToJson(ChangeRequest{}).value());
  ASSERT_TRUE(cr.ok());
  ExpectSameChangeRequest(*cr, ChangeRequest{});
}

TEST(SerializationTest, WritesNamesTimesAndSecondsReadably) {
  auto json = nlohmann::json::parse(ChangeRequestToJson(SampleChangeRequest(1)).value());
  EXPECT_EQ(json["state"], "in-progress");
  EXPECT_EQ(json["classification"], "P2-High");
  EXPECT_EQ(json["type"], "security");
  EXPECT_EQ(json["rollback_complexity"], "high");
  EXPECT_EQ(json["created_at"], "2026-11-30T09:00:00Z");
  EXPECT_EQ(json["expected_downtime_seconds"], 900);
  EXPECT_EQ(json["approvals"][0]["confirmed_at"], nullptr);
  EXPECT_EQ(json["scheduled"]["DEV"], "2026-11-30T10:00:00Z");
  auto patch = nlohmann::json::parse(PatchToJson(SamplePatch(1)).value());
  EXPECT_EQ(patch["source"], "security-team");
  EXPECT_EQ(patch["classification"]["emergency_criteria"][0], "active-exploitation");
}

TEST(SerializationTest, MissingFieldsTakeTheirDefaults) {
  auto cr = ChangeRequestFromJson(R"({"id":"CR-1","number":1})");
  ASSERT_TRUE(cr.ok()) << cr.error().ToString();
  EXPECT_EQ(cr->id, "CR-1");
  EXPECT_EQ(cr->state, CrState::kDraft);
  EXPECT_EQ(cr->revision, 1);
  EXPECT_EQ(cr->rollback_complexity, RollbackComplexity::kMedium);
  // A CR stored before emergency justifications existed has none.
  EXPECT_FALSE(cr->emergency_justification.has_value());
}

TEST(SerializationTest, EmergencyJustificationIsWrittenReadablyAndMayBeNull) {
  auto json = nlohmann::json::parse(ChangeRequestToJson(SampleChangeRequest(1)).value());
  EXPECT_EQ(json["emergency_justification"]["cvss_score"], 9.8);
  EXPECT_EQ(json["emergency_justification"]["recorded_at"], "2026-11-30T09:54:00Z");
  auto unscored = ChangeRequestFromJson(
      R"({"emergency_justification":{"incident":"ransomware indicators","cvss_score":null}})");
  ASSERT_TRUE(unscored.ok()) << unscored.error().ToString();
  ASSERT_TRUE(unscored->emergency_justification.has_value());
  EXPECT_EQ(unscored->emergency_justification->incident, "ransomware indicators");
  EXPECT_FALSE(unscored->emergency_justification->cvss_score.has_value());
  auto none = ChangeRequestFromJson(R"({"emergency_justification":null})");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->emergency_justification.has_value());
}

TEST(SerializationTest, BadInputIsInvalidArgumentNamingTheProblem) {
  auto not_json = PatchFromJson("{not json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code(), StatusCode::kInvalidArgument);

  auto unknown_state = ChangeRequestFromJson(R"({"state":"teleported"})");
  ASSERT_FALSE(unknown_state.ok());
  EXPECT_THAT(unknown_state.error().message(), HasSubstr("teleported"));

  auto wrong_type = ChangeRequestFromJson(R"({"number":"twelve"})");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code(), StatusCode::kInvalidArgument);

  auto bad_time = PatchFromJson(R"({"created_at":"yesterday"})");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_THAT(bad_time.error().message(), HasSubstr("yesterday"));

  auto bad_criterion = PatchFromJson(R"({"declared_criteria":["because"]})");
  ASSERT_FALSE(bad_criterion.ok());
  EXPECT_THAT(bad_criterion.error().message(), HasSubstr("because"));
}

TEST(SerializationTest, InvalidUtf8IsRefused) {
  Patch patch = SamplePatch(1);
  patch.release_notes = "\xc3\x28";
  auto text = PatchToJson(patch);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(text.error().message(), HasSubstr("PATCH-1"));
}

}  // namespace
}  // namespace rollgate
