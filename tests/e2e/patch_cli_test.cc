// Patch records through the real binary: the documented JSON of `patch add`, classification
// P1–P4 with the emergency criteria, and bad input (sources, CVE ids, vectors, titles, files)
// refused with exit 2 while storing nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PatchCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    h_.SetNow(kMonday);
  }
  std::vector<std::string> Add(std::vector<std::string> extra) {
    std::vector<std::string> args = {"patch",          "add",      "--title",
                                     "OpenSSL 3.0.15", "--source", "vendor-advisory"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  void ExpectRefused(const std::vector<std::string>& args, int exit_code,
                     const std::string& named) {
    std::string before = h_.StoreDump();
    CommandOutput r = h_.RunAs("heidi", args);
    EXPECT_EQ(r.exit_code, exit_code) << ::testing::PrintToString(args) << "\n" << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(named)) << ::testing::PrintToString(args);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(h_.StoreDump(), before) << ::testing::PrintToString(args);
  }
  CliHarness h_;
};

TEST_F(PatchCliTest, AddPrintsTheDocumentedJson) {
  CommandOutput r = h_.RunJson(Add({"--cve", "CVE-2026-31337", "--cve", "cve-2026-0001", "--ref",
                                    "KB5031356", "--version", "3.0.15", "--cvss", kHighVector}),
                               "heidi");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json p = r.Json();
  EXPECT_EQ(p["id"], "PATCH-1");
  EXPECT_EQ(p["classification"], "P2");
  EXPECT_EQ(p["emergency"], false);
  EXPECT_EQ(p["cvss"]["version"], "3.1");
  EXPECT_EQ(p["cvss"]["base_score"], 7.5);
  EXPECT_EQ(p["cvss"]["severity"], "High");
  EXPECT_EQ(p["cvss"]["vector"], kHighVector);
  EXPECT_TRUE(p.contains("package"));
  EXPECT_TRUE(p["package"].is_null());
  EXPECT_EQ(p["cves"], (nlohmann::json{"CVE-2026-31337", "CVE-2026-0001"}));
  EXPECT_EQ(p["references"], (nlohmann::json{"KB5031356"}));
  EXPECT_EQ(p["version"], "3.0.15");
  EXPECT_EQ(p["source"], "vendor-advisory");
  EXPECT_EQ(p["created_by"], "heidi");
  EXPECT_EQ(p["created_at"], kMonday);

  CommandOutput show = h_.RunJson({"patch", "show", "PATCH-1"});
  EXPECT_EQ(show.Json(), p);
  CommandOutput list = h_.RunJson({"patch", "list"});
  EXPECT_EQ(list.Json(), nlohmann::json::array({p}));
  ExpectRefused({"patch", "show", "PATCH-2"}, 3, "PATCH-2");
}

TEST_F(PatchCliTest, ClassifiesP1ToP4WithEmergencyReasons) {
  struct Case {
    std::vector<std::string> flags;
    std::string classification;
    bool emergency;
  };
  const std::vector<Case> cases = {
      {{"--cvss", kCriticalVector}, "P1", true},
      {{"--cvss", kMediumVector, "--exploited"}, "P1", true},
      {{"--cvss", kHighVector}, "P2", false},
      {{"--cvss", kMediumVector}, "P3", false},
      {{}, "P4", false},
  };
  for (const auto& c : cases) {
    CommandOutput r = h_.RunJson(Add(c.flags), "heidi");
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    nlohmann::json p = r.Json();
    EXPECT_EQ(p["classification"], c.classification) << ::testing::PrintToString(c.flags);
    EXPECT_EQ(p["emergency"], c.emergency) << ::testing::PrintToString(c.flags);
    EXPECT_EQ(p["emergency_reasons"].empty(), !c.emergency);
  }
  CommandOutput exploited = h_.RunJson({"patch", "show", "PATCH-2"});
  EXPECT_THAT(exploited.Json()["emergency_criteria"], Contains("active-exploitation"));
}

TEST_F(PatchCliTest, ClassificationOverrideNeedsAJustificationAndIsAudited) {
  Ok(h_, "heidi", Add({"--cvss", kMediumVector}));
  ExpectRefused({"patch", "classify", "PATCH-1", "--priority", "P1"}, 2, "--justification");
  ExpectRefused({"patch", "classify", "PATCH-1", "--priority", "P7", "--justification", "x"}, 2,
                "P7");
  ExpectRefused({"patch", "classify", "PATCH-9", "--priority", "P1", "--justification", "x"}, 3,
                "PATCH-9");
  CommandOutput r = h_.RunJson({"patch", "classify", "PATCH-1", "--priority", "P2",
                                "--justification", "exposed to the internet"},
                               "grace");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.Json()["classification"], "P2");
  EXPECT_EQ(r.Json()["override"]["computed"], "P3");
  EXPECT_EQ(r.Json()["override"]["by"], "grace");
  EXPECT_THAT(h_.Run({"audit", "export"}).out, HasSubstr("exposed to the internet"));
}

TEST_F(PatchCliTest, BadInputIsRefusedAndNothingStored) {
  Ok(h_, "heidi", Add({}));  // the store exists, with one event
  ExpectRefused({"patch", "add", "--title", "t", "--source", "vendor"}, 2,
                "unknown patch source 'vendor'");
  ExpectRefused({"patch", "add", "--title", "t", "--source", ""}, 2, "source");
  ExpectRefused({"patch", "add", "--title", "t"}, 2, "--source");
  ExpectRefused({"patch", "add", "--source", "security-team"}, 2, "--title");
  ExpectRefused({"patch", "add", "--title", "  ", "--source", "security-team"}, 2, "blank");
  ExpectRefused({"patch", "add", "--title", "bad \xff\xfe title", "--source", "security-team"}, 2,
                "--title is not valid UTF-8");
  for (const std::string cve :
       {"CVE-26-1", "CVE-2026-12", "CVE-2026-", "2026-1234", "CVE_2026_1234",
        "CVE-2026-1234; rm -rf /", "CVE-2026-1234\n", ""}) {
    SCOPED_TRACE("cve: " + cve);
    ExpectRefused(Add({"--cve", cve}), 2, "CVE");
  }
  ExpectRefused(Add({"--cvss", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}), 2, "no version prefix");
  ExpectRefused(Add({"--cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"}), 2, "missing metric A");
  ExpectRefused(Add({"--package", "/nonexistent/patch.tar.gz"}), 2, "/nonexistent/patch.tar.gz");
  ExpectRefused(Add({"--criterion", "because"}), 2, "because");
  // Long values are stored whole but a title is one line on the list.
  EXPECT_THAT(h_.RunJson({"patch", "list"}).Json().size(), 1u);
}

TEST_F(PatchCliTest, HostileTitleIsStoredLiterallyAndPrintedEscaped) {
  const std::string title = "fix\nPATCH-9  P1  9.8  emergency forged\x1b[0m\xe2\x81\xa6";
  CommandOutput r =
      h_.RunJson({"patch", "add", "--title", title, "--source", "security-team"}, "heidi");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.Json()["title"], title);
  CommandOutput list = h_.Run({"patch", "list"});
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 1) << list.out;
  EXPECT_THAT(list.out, HasSubstr("fix\\nPATCH-9"));
  EXPECT_THAT(list.out, HasSubstr("\\x1b[0m\\u2066"));
  CommandOutput show = h_.Run({"patch", "show", "PATCH-1"});
  EXPECT_THAT(show.out, ::testing::Not(HasSubstr("\x1b")));
}

}  // namespace
}  // namespace rollgate::e2e
