#include "engine/steps/junit.h"

#include <gtest/gtest.h>

namespace rollgate {
namespace {

TEST(ParseJUnit, SumsSuitesUnderTestsuitesRoot) {
  Result<JUnitSummary> summary = ParseJUnit(R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="999" failures="999">
  <testsuite name="api" tests="10" failures="1" errors="1" skipped="2">
    <testcase classname="api.Orders" name="create"><failure message="boom"/></testcase>
    <testcase classname="api.Orders" name="list"><error message="crash"/></testcase>
  </testsuite>
  <testsuite name="db" tests="5" failures="0" errors="0"/>
</testsuites>)");
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(summary->tests, 15);
  EXPECT_EQ(summary->failures, 1);
  EXPECT_EQ(summary->errors, 1);
  EXPECT_EQ(summary->skipped, 2);
  EXPECT_EQ(summary->failed_cases,
            (std::vector<std::string>{"api.Orders.create", "api.Orders.list"}));
  // (15 - 1 - 1 - 2) / (15 - 2)
  EXPECT_NEAR(summary->PassRate(), 11.0 * 100 / 13, 1e-9);
}

TEST(ParseJUnit, SingleSuiteRoot) {
  Result<JUnitSummary> summary =
      ParseJUnit(R"(<testsuite name="x" tests="20" failures="1" skip="1"></testsuite>)");
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(summary->tests, 20);
  EXPECT_EQ(summary->failures, 1);
  EXPECT_EQ(summary->skipped, 1);
  EXPECT_NEAR(summary->PassRate(), 18.0 * 100 / 19, 1e-9);
}

TEST(ParseJUnit, NestedSuitesCountTheirChildrenNotTheAggregates) {
  Result<JUnitSummary> summary = ParseJUnit(R"(<testsuites>
  <testsuite name="outer" tests="100" failures="50">
    <testsuite name="inner1" tests="3" failures="1"/>
    <testsuite name="inner2">
      <testsuite name="deep" tests="4" errors="1"/>
    </testsuite>
    <testcase classname="outer" name="direct"/>
  </testsuite>
</testsuites>)");
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(summary->tests, 8);
  EXPECT_EQ(summary->failures, 1);
  EXPECT_EQ(summary->errors, 1);
  EXPECT_EQ(summary->skipped, 0);
}

TEST(ParseJUnit, CountsTestcasesWhenASuiteHasNoAttributes) {
  Result<JUnitSummary> summary = ParseJUnit(R"(<testsuite name="t">
  <testcase name="a"/>
  <testcase name="b"><failure/></testcase>
  <testcase name="c"><error/></testcase>
  <testcase name="d"><skipped/></testcase>
  <testcase name="e"><system-out>ok</system-out></testcase>
</testsuite>)");
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  EXPECT_EQ(summary->tests, 5);
  EXPECT_EQ(summary->failures, 1);
  EXPECT_EQ(summary->errors, 1);
  EXPECT_EQ(summary->skipped, 1);
  EXPECT_EQ(summary->failed_cases, (std::vector<std::string>{"b", "c"}));
  EXPECT_NEAR(summary->PassRate(), 50.0, 1e-9);
}

TEST(ParseJUnit, EmptyReportsHaveNoTestsAndPassRateZero) {
  for (const char* xml :
       {"<testsuites/>", "<testsuites></testsuites>", "<testsuite name='e' tests='0'/>",
        "<testsuite tests='2' skipped='2'/>"}) {
    Result<JUnitSummary> summary = ParseJUnit(xml);
    ASSERT_TRUE(summary.ok()) << xml << ": " << summary.error().message();
    EXPECT_EQ(summary->tests - summary->skipped, 0) << xml;
    EXPECT_EQ(summary->PassRate(), 0) << xml;
  }
}

TEST(ParseJUnit, MalformedXmlIsInvalidArgumentWithTheProblem) {
  Result<JUnitSummary> summary = ParseJUnit("<testsuites><testsuite tests='1'></testsuites>");
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(summary.error().message().find("malformed XML at byte"), std::string::npos)
      << summary.error().message();
  EXPECT_NE(summary.error().message().find("mismatch"), std::string::npos)
      << summary.error().message();

  Result<JUnitSummary> empty = ParseJUnit("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.error().message().find("malformed XML"), std::string::npos)
      << empty.error().message();

  Result<JUnitSummary> truncated = ParseJUnit("<testsuite tests=\"3\" fail");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code(), StatusCode::kInvalidArgument);
}

TEST(ParseJUnit, RejectsOtherRootsAndBadCounts) {
  Result<JUnitSummary> html = ParseJUnit("<html><body>report</body></html>");
  ASSERT_FALSE(html.ok());
  EXPECT_NE(html.error().message().find("root element is <html>"), std::string::npos)
      << html.error().message();

  Result<JUnitSummary> words = ParseJUnit("<testsuite name='s' tests='many'/>");
  ASSERT_FALSE(words.ok());
  EXPECT_NE(words.error().message().find("tests='many' is not a whole number"), std::string::npos)
      << words.error().message();

  Result<JUnitSummary> negative = ParseJUnit("<testsuite name='s' tests='3' failures='-1'/>");
  ASSERT_FALSE(negative.ok());

  Result<JUnitSummary> too_many = ParseJUnit("<testsuite name='s' tests='3' failures='4'/>");
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message().find("exceed tests (3)"), std::string::npos)
      << too_many.error().message();
}

TEST(ParseJUnit, DoesNotExpandExternalEntities) {
  Result<JUnitSummary> summary = ParseJUnit(R"(<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<testsuite name="x"><testcase name="&leak;"><failure/></testcase></testsuite>)");
  // pugixml skips the DTD and leaves the unknown entity as text: nothing is read from disk.
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  ASSERT_EQ(summary->failed_cases.size(), 1u);
  EXPECT_EQ(summary->failed_cases[0].find("root:"), std::string::npos);
}

TEST(JUnitSummary, PassRateOfAllPassing) {
  JUnitSummary summary;
  summary.tests = 40;
  EXPECT_EQ(summary.PassRate(), 100);
}

}  // namespace
}  // namespace rollgate
