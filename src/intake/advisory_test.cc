#include "intake/advisory.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace rollgate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Sample(const std::string& name) {
  std::filesystem::path path =
      std::filesystem::path(ROLLGATE_SOURCE_DIR) / "tests/data/advisories" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Timestamp At(const char* text) { return ParseTime(text, FixedOffsetZone(Seconds(0))).value(); }

// The error of parsing `text`, which must fail with InvalidArgument.
std::string ErrorOf(std::string_view text) {
  Result<ImportedAdvisory> advisory = ParseAdvisory(text);
  EXPECT_FALSE(advisory.ok()) << text.substr(0, 300);
  if (advisory.ok()) return "";
  EXPECT_EQ(advisory.error().code(), StatusCode::kInvalidArgument);
  return advisory.error().message();
}

// A minimal CSAF 2.0 document with the given vulnerabilities array.
std::string Csaf(std::string_view vulnerabilities) {
  return fmt::format(R"({{
    "document": {{"category": "csaf_base", "csaf_version": "2.0", "title": "T",
                  "tracking": {{"id": "T-1"}}}},
    "vulnerabilities": {}}})",
                     vulnerabilities);
}

std::string OsvWith(std::string_view members) {
  return fmt::format(R"({{"id": "OSV-1", "modified": "2026-01-01T00:00:00Z"{}}})", members);
}

TEST(AdvisoryTest, ReadsTheOsvCriticalSample) {
  Result<ImportedAdvisory> advisory = ParseAdvisory(Sample("osv-critical-exploited.json"));
  ASSERT_TRUE(advisory.ok()) << advisory.status().ToString();
  EXPECT_EQ(advisory->format, "osv");
  EXPECT_EQ(advisory->id, "OSV-2026-0412");
  EXPECT_EQ(advisory->title, "Remote code execution in invoicegen template rendering");
  EXPECT_THAT(advisory->description, HasSubstr("crafted invoice template"));
  EXPECT_EQ(advisory->published, At("2026-11-18T16:00:00Z"));
  EXPECT_EQ(advisory->modified, At("2026-11-20T08:15:00Z"));
  EXPECT_THAT(advisory->cves, ElementsAre("CVE-2026-31337"));
  EXPECT_THAT(advisory->aliases, ElementsAre("GHSA-7x2q-h4mp-9v3c"));
  ASSERT_EQ(advisory->vectors.size(), 1u);
  EXPECT_EQ(advisory->vectors[0].version, "3.1");
  EXPECT_EQ(advisory->vectors[0].vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  EXPECT_FALSE(advisory->vectors[0].claimed_base_score.has_value());
  EXPECT_FALSE(advisory->exploited) << "OSV has no standard exploitation field";

  ASSERT_EQ(advisory->affected.size(), 2u);
  const AffectedProduct& debian = advisory->affected[0];
  EXPECT_EQ(debian.ecosystem, "Debian:12");
  EXPECT_EQ(debian.name, "invoicegen");
  EXPECT_THAT(debian.versions, ElementsAre("2.4.5-1", "2.4.6-1"));
  ASSERT_EQ(debian.ranges.size(), 1u);
  EXPECT_EQ(debian.ranges[0].type, "ECOSYSTEM");
  EXPECT_THAT(debian.ranges[0].introduced, ElementsAre("0"));
  EXPECT_THAT(debian.fixed_versions, ElementsAre("2.4.7-1+deb12u1"));
  EXPECT_THAT(advisory->affected[1].fixed_versions, ElementsAre("2.4.7", "3.0.2"));
  EXPECT_THAT(advisory->fixed_versions, ElementsAre("2.4.7-1+deb12u1", "2.4.7", "3.0.2"));
  EXPECT_EQ(advisory->references.size(), 3u);
  ASSERT_EQ(advisory->remediations.size(), 3u);
  EXPECT_EQ(advisory->remediations[0].category, "vendor_fix");
  EXPECT_EQ(advisory->remediations[0].details, "upgrade Debian:12/invoicegen to 2.4.7-1+deb12u1");
}

TEST(AdvisoryTest, ReadsTheCsafMultiSample) {
  Result<ImportedAdvisory> advisory = ParseAdvisory(Sample("csaf-multi.json"));
  ASSERT_TRUE(advisory.ok()) << advisory.status().ToString();
  EXPECT_EQ(advisory->format, "csaf");
  EXPECT_EQ(advisory->id, "NW-SA-2026-017");
  EXPECT_EQ(advisory->title, "Northwind Gateway: authentication bypass and request smuggling");
  EXPECT_THAT(advisory->summary, HasSubstr("Two vulnerabilities"));
  EXPECT_THAT(advisory->description, HasSubstr("Upgrade to 5.2.1 or 4.9.8"));
  EXPECT_EQ(advisory->published, At("2026-11-10T12:00:00Z"));
  EXPECT_EQ(advisory->modified, At("2026-11-12T08:30:00Z"));
  EXPECT_THAT(advisory->cves, ElementsAre("CVE-2026-40001", "CVE-2026-40002"));

  ASSERT_EQ(advisory->vectors.size(), 2u);
  EXPECT_EQ(advisory->vectors[0],
            (AdvisoryVector{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", 9.1,
                            "CVE-2026-40001"}));
  EXPECT_EQ(
      advisory->vectors[1],
      (AdvisoryVector{"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3,
                      "CVE-2026-40002"}));

  EXPECT_TRUE(advisory->exploited);
  ASSERT_EQ(advisory->exploitation_evidence.size(), 1u);
  EXPECT_THAT(advisory->exploitation_evidence[0],
              HasSubstr("CVE-2026-40001: Exploited in the wild"));

  ASSERT_EQ(advisory->affected.size(), 3u);
  const AffectedProduct& gateway = advisory->affected[0];
  EXPECT_EQ(gateway.product_id, "NWG-5.2.0");
  EXPECT_EQ(gateway.name, "Northwind Gateway 5.2.0");
  EXPECT_EQ(gateway.version, "5.2.0");
  EXPECT_THAT(gateway.cves, ElementsAre("CVE-2026-40001", "CVE-2026-40002"));
  EXPECT_THAT(gateway.fixed_versions, ElementsAre("5.2.1", "4.9.8"));
  EXPECT_EQ(advisory->affected[1].product_id, "NWG-4.9.7");
  EXPECT_EQ(advisory->affected[2].product_id, "NWC-2.1");
  EXPECT_THAT(advisory->affected[2].cves, ElementsAre("CVE-2026-40002"));
  EXPECT_TRUE(advisory->affected[2].fixed_versions.empty());
  EXPECT_THAT(advisory->fixed_versions, ElementsAre("5.2.1", "4.9.8"));

  ASSERT_EQ(advisory->remediations.size(), 4u);
  EXPECT_EQ(advisory->remediations[0].category, "vendor_fix");
  EXPECT_EQ(advisory->remediations[0].url, "https://psirt.northwind.example/downloads");
  EXPECT_THAT(advisory->remediations[0].product_ids, ElementsAre("NWG-5.2.0", "NWG-4.9.7"));
  EXPECT_EQ(advisory->remediations[3].category, "none_available");
  EXPECT_THAT(advisory->references,
              ElementsAre("https://psirt.northwind.example/csaf/NW-SA-2026-017.json",
                          "https://www.cve.org/CVERecord?id=CVE-2026-40001"));
}

TEST(AdvisoryTest, ReadsTheScoreMismatchSampleWithItsClaim) {
  Result<ImportedAdvisory> advisory = ParseAdvisory(Sample("csaf-score-mismatch.json"));
  ASSERT_TRUE(advisory.ok()) << advisory.status().ToString();
  ASSERT_EQ(advisory->vectors.size(), 1u);
  EXPECT_EQ(advisory->vectors[0].claimed_base_score, 5.3);
  EXPECT_FALSE(advisory->exploited);
}

TEST(AdvisoryTest, AcceptsMissingOptionalFields) {
  Result<ImportedAdvisory> osv = ParseAdvisory(Sample("osv-minimal.json"));
  ASSERT_TRUE(osv.ok()) << osv.status().ToString();
  EXPECT_TRUE(osv->cves.empty());
  EXPECT_TRUE(osv->aliases.empty());
  EXPECT_EQ(osv->id, "GHSA-3m9r-8c2w-q7xv");
  EXPECT_TRUE(osv->vectors.empty());
  EXPECT_FALSE(osv->published.has_value());
  EXPECT_TRUE(osv->fixed_versions.empty());
  EXPECT_THAT(osv->affected[0].versions, ElementsAre("1.0.0", "1.0.1"));

  Result<ImportedAdvisory> bare_osv =
      ParseAdvisory(R"({"id": "CVE-2026-5555", "modified": "2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(bare_osv.ok()) << bare_osv.status().ToString();
  EXPECT_THAT(bare_osv->cves, ElementsAre("CVE-2026-5555"));
  EXPECT_EQ(bare_osv->title, "CVE-2026-5555");

  Result<ImportedAdvisory> csaf = ParseAdvisory(
      R"({"document": {"csaf_version": "2.0", "title": "Bare", "tracking": {"id": "B-1"}}})");
  ASSERT_TRUE(csaf.ok()) << csaf.status().ToString();
  EXPECT_EQ(csaf->id, "B-1");
  EXPECT_TRUE(csaf->affected.empty());
  EXPECT_FALSE(csaf->exploited);

  // Products named only in the vulnerabilities (no product tree) keep their ids as names.
  Result<ImportedAdvisory> no_tree =
      ParseAdvisory(Csaf(R"([{"product_status": {"known_affected": ["P-1"]}}])"));
  ASSERT_TRUE(no_tree.ok()) << no_tree.status().ToString();
  ASSERT_EQ(no_tree->affected.size(), 1u);
  EXPECT_EQ(no_tree->affected[0].name, "P-1");
}

TEST(AdvisoryTest, JudgesCsafExploitStatusWording) {
  struct Case {
    const char* category;
    const char* details;
    bool exploited;
  };
  const Case cases[] = {
      {"exploit_status", "Exploited in the wild.", true},
      {"exploit_status", "Listed in CISA KEV on 2026-11-12.", true},
      {"exploit_status", "Northwind is aware of active exploitation.", true},
      {"exploit_status", "Exploitation: Active", true},
      {"exploit_status", "The vulnerability is being exploited against VPN appliances.", true},
      {"exploit_status", "No known exploitation.", false},
      {"exploit_status", "Not known to be exploited in the wild.", false},
      {"exploit_status", "Proof of concept only; no evidence of exploitation.", false},
      {"exploit_status", "We are not aware of active exploitation.", false},
      {"exploit_status", "Reported by Kevin Smith.", false},
      {"impact", "Actively exploited.", false},
  };
  for (const Case& c : cases) {
    Result<ImportedAdvisory> advisory = ParseAdvisory(Csaf(fmt::format(
        R"([{{"cve": "CVE-2026-1000", "threats": [{{"category": "{}", "details": "{}"}}]}}])",
        c.category, c.details)));
    ASSERT_TRUE(advisory.ok()) << advisory.status().ToString();
    EXPECT_EQ(advisory->exploited, c.exploited) << c.category << ": " << c.details;
  }
}

TEST(AdvisoryTest, NotesWhatItDoesNotUse) {
  Result<ImportedAdvisory> osv = ParseAdvisory(OsvWith(R"(, "severity": [
      {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
      {"type": "CVSS_V3", "score": "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
      {"type": "CVSS_V4", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
      {"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:L"}])"));
  ASSERT_TRUE(osv.ok()) << osv.status().ToString();
  ASSERT_EQ(osv->vectors.size(), 1u);
  EXPECT_EQ(osv->vectors[0].version, "3.0");
  EXPECT_EQ(osv->notes.size(), 3u);
  EXPECT_THAT(osv->notes[1], HasSubstr("is not a vector of that version"));
}

TEST(AdvisoryTest, RefusesTheBrokenSamples) {
  EXPECT_THAT(ErrorOf(Sample("broken-invalid-json.json")), HasSubstr("invalid JSON at byte"));
  EXPECT_THAT(ErrorOf(Sample("broken-unknown-format.json")), HasSubstr("unknown advisory format"));
  EXPECT_THAT(ErrorOf(Sample("broken-csaf-version.json")),
              HasSubstr("unsupported CSAF version \"1.2\""));
  EXPECT_THAT(ErrorOf(Sample("broken-osv-missing-id.json")), HasSubstr("\"id\" is required"));
  EXPECT_THAT(ErrorOf(Sample("broken-osv-wrong-type.json")),
              HasSubstr("\"aliases\" must be an array"));
}

TEST(AdvisoryTest, RefusesInvalidJsonAndNonObjects) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("invalid JSON at byte"));
  EXPECT_THAT(ErrorOf("{\"id\": \"x\""), HasSubstr("invalid JSON"));
  EXPECT_THAT(ErrorOf("[1, 2, 3]"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ErrorOf("\"id\""), HasSubstr("not a JSON object"));
  std::string bad_utf8 = OsvWith(", \"summary\": \"caf\xC3\x28\"");
  std::string message = ErrorOf(bad_utf8);
  EXPECT_THAT(message, HasSubstr("invalid JSON at byte"));
  EXPECT_THAT(message, HasSubstr("\\xc3"));
}

TEST(AdvisoryTest, RefusesHostileDocuments) {
  std::string deep =
      OsvWith(", \"database_specific\": " + std::string(100, '[') + std::string(100, ']'));
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nested deeper than 64 levels"));
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseAdvisory(OsvWith(", \"details\": \"" + std::string(100, '[') + "\\\"\"")).ok());

  std::string huge = OsvWith(", \"details\": \"" + std::string(kMaxAdvisoryBytes, 'x') + "\"");
  EXPECT_THAT(ErrorOf(huge), HasSubstr("more than the limit of 8388608"));

  std::string many = "\"v\"";
  for (size_t i = 0; i < kMaxAdvisoryItems; ++i) many += ",\"v\"";
  EXPECT_THAT(ErrorOf(OsvWith(", \"affected\": [{\"versions\": [" + many + "]}]")),
              HasSubstr("\"affected[0].versions\" has 100001 items"));
}

TEST(AdvisoryTest, RefusesWrongTypesAndMissingRequiredFieldsByPath) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"id": 17, "modified": "2026-01-01T00:00:00Z"})", "\"id\" must be a string"},
      {R"({"id": "", "schema_version": "1.6.0", "modified": "2026-01-01T00:00:00Z"})",
       "\"id\" is empty"},
      {R"({"id": "X", "affected": []})", "\"modified\" is required"},
      {OsvWith(R"(, "published": "last tuesday")"), "\"published\" is not an RFC 3339 date-time"},
      {OsvWith(R"(, "affected": [{"ranges": [{"type": "SEMVER"}]}])"),
       "\"affected[0].ranges[0].events\" is required"},
      {OsvWith(R"(, "affected": [{"ranges": [{"type": "SEMVER", "events": [{}]}]}])"),
       "\"affected[0].ranges[0].events[0]\" has none of"},
      {OsvWith(R"(, "affected": [{"package": {"name": "x"}}])"),
       "\"affected[0].package.ecosystem\" is required"},
      {OsvWith(R"(, "affected": ["pkg"])"), "\"affected[0]\" must be an object"},
      {OsvWith(R"(, "severity": [{"type": "CVSS_V3", "score": 9.8}])"),
       "\"severity[0].score\" must be a string"},
      {OsvWith(R"(, "references": [{"type": "WEB"}])"), "\"references[0].url\" is required"},
      {R"({"document": {"csaf_version": 2.0, "title": "T", "tracking": {"id": "T"}}})",
       "\"document.csaf_version\" must be a string"},
      {R"({"document": {"csaf_version": "2.0", "tracking": {"id": "T"}}})",
       "\"document.title\" is required"},
      {R"({"document": {"csaf_version": "2.0", "title": "T"}})",
       "\"document.tracking\" is required"},
      {Csaf(R"([{"cve": "CVE-26-1"}])"), "\"vulnerabilities[0].cve\" is not a CVE id"},
      {Csaf(R"({"cve": "CVE-2026-1000"})"), "\"vulnerabilities\" must be an array"},
      {Csaf(R"([{"scores": [{"cvss_v3": {"vectorString": 9.8}}]}])"),
       "\"vulnerabilities[0].scores[0].cvss_v3.vectorString\" must be a string"},
      {Csaf(
           R"([{"scores": [{"cvss_v3": {"vectorString": "CVSS:3.1/AV:N", "baseScore": "high"}}]}])"),
       "\"vulnerabilities[0].scores[0].cvss_v3.baseScore\" must be a number"},
      {Csaf(R"([{"product_status": {"known_affected": "P-1"}}])"),
       "\"vulnerabilities[0].product_status.known_affected\" must be an array"},
      {Csaf(R"([{"threats": [{"category": "exploit_status"}]}])"),
       "\"vulnerabilities[0].threats[0].details\" is required"},
      {Csaf(R"([{"remediations": [{"details": "upgrade"}]}])"),
       "\"vulnerabilities[0].remediations[0].category\" is required"},
  };
  for (const auto& [document, expected] : cases) {
    EXPECT_THAT(ErrorOf(document), HasSubstr(expected)) << document;
  }
}

TEST(AdvisoryTest, PrefixesErrorsWithTheFormat) {
  EXPECT_THAT(ErrorOf(Sample("broken-osv-missing-id.json")), HasSubstr("OSV advisory: "));
  EXPECT_THAT(ErrorOf(Csaf("[17]")), HasSubstr("CSAF advisory: "));
}

}  // namespace
}  // namespace rollgate
