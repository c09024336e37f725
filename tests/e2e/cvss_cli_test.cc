// `rollgate cvss VECTOR` through the real binary: FIRST's example scores, the documented JSON,
// and malformed vectors refused with exit 2 naming the bad or missing metric.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/cli_harness.h"
#include "tests/e2e/flows.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

struct Scored {
  const char* vector;
  double score;
  const char* severity;
};

class CvssScoreTest : public ::testing::TestWithParam<Scored> {};

// Examples from FIRST's CVSS v3.1 specification document (section 7) and the boundaries of
// the severity scale.
INSTANTIATE_TEST_SUITE_P(
    First, CvssScoreTest,
    ::testing::Values(Scored{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "Critical"},
                      Scored{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "Medium"},
                      Scored{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, "Medium"},
                      Scored{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, "Low"},
                      Scored{"CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2, "Medium"},
                      Scored{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "Critical"},
                      Scored{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "None"},
                      Scored{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "High"}));

TEST_P(CvssScoreTest, JsonHasVersionScoreAndSeverity) {
  CliHarness h;  // no configuration needed
  CommandOutput r = h.RunJson({"cvss", GetParam().vector});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  nlohmann::json doc = r.Json();
  EXPECT_EQ(doc["version"], "3.1");
  EXPECT_DOUBLE_EQ(doc["base_score"].get<double>(), GetParam().score);
  EXPECT_EQ(doc["severity"], GetParam().severity);
}

TEST(CvssCliTest, TextAndTemporalMetricsAndVersion4) {
  CliHarness h;
  CommandOutput text = h.Run({"cvss", kCriticalVector});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out, "CVSS 3.1 base score 9.8 (Critical)\n");
  // Temporal metrics do not change the base score.
  CommandOutput temporal = h.RunJson({"cvss", std::string(kCriticalVector) + "/E:U/RL:O/RC:C"});
  EXPECT_EQ(temporal.exit_code, 0) << Describe(temporal);
  EXPECT_DOUBLE_EQ(temporal.Json()["base_score"].get<double>(), 9.8);
  CommandOutput v4 =
      h.RunJson({"cvss", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"});
  EXPECT_EQ(v4.exit_code, 0) << Describe(v4);
  EXPECT_EQ(v4.Json()["version"], "4.0");
  EXPECT_DOUBLE_EQ(v4.Json()["base_score"].get<double>(), 9.3);
}

struct Malformed {
  std::string vector;
  std::string named;  // what the message must name
};

class CvssMalformedTest : public ::testing::TestWithParam<Malformed> {};

INSTANTIATE_TEST_SUITE_P(
    BadInput, CvssMalformedTest,
    ::testing::Values(
        Malformed{"AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "no version prefix"},
        Malformed{"CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C", "CVSS:3.1/"},
        Malformed{"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "duplicate metric AV"},
        Malformed{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "missing metric A (Availability)"},
        Malformed{"CVSS:3.1/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "missing metric AV"},
        Malformed{"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                  "invalid value 'X' for metric AV"},
        Malformed{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:", "A"},
        Malformed{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:Q", "ZZ"},
        Malformed{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", ""},
        Malformed{"CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ""},
        Malformed{"CVSS:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h", ""},
        Malformed{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n", ""}, Malformed{"", ""},
        Malformed{"CVSS:3.1", ""}));

TEST_P(CvssMalformedTest, RefusedWithExitTwoNamingTheMetric) {
  CliHarness h;
  CommandOutput text = h.Run({"cvss", GetParam().vector});
  EXPECT_EQ(text.exit_code, 2) << Describe(text);
  EXPECT_EQ(text.out, "");
  EXPECT_THAT(text.err, HasSubstr(GetParam().named));
  EXPECT_THAT(text.err, ::testing::StartsWith("rollgate: "));
  EXPECT_EQ(std::count(text.err.begin(), text.err.end(), '\n'), 1) << "one line: " << text.err;
  CommandOutput json = h.RunJson({"cvss", GetParam().vector});
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_EQ(json.Json()["error"]["code"], "INVALID_ARGUMENT");
}

TEST(CvssCliTest, UsageErrorsExitTwo) {
  CliHarness h;
  EXPECT_EQ(h.Run({"cvss"}).exit_code, 2);
  EXPECT_EQ(h.Run({"cvss", kCriticalVector, kHighVector}).exit_code, 2);
  EXPECT_EQ(h.Run({"cvss", "--bogus", kCriticalVector}).exit_code, 2);
  CommandOutput fmt = h.Run({"cvss", kCriticalVector, "--output", "xml"});
  EXPECT_EQ(fmt.exit_code, 2);
  EXPECT_EQ(fmt.out, "");
}

}  // namespace
}  // namespace rollgate::e2e
