#include <gtest/gtest.h>

#include <filesystem>

#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

std::string Suite(int tests, int failures, const std::string& failing = "") {
  std::string cases;
  if (!failing.empty()) {
    cases = "<testcase classname=\"api\" name=\"" + failing + "\"><failure/></testcase>";
  }
  return "<testsuite name=\"api\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
         std::to_string(failures) + "\">" + cases + "</testsuite>";
}

// A command that writes `xml` to the report file and exits with `code`.
std::map<std::string, std::string> Params(const std::string& xml, int code = 0) {
  return {{"command", "mkdir -p \"$ROLLGATE_ROOT/opt/app/results\" && printf '%s' '" + xml +
                          "' > \"$ROLLGATE_ROOT/opt/app/results/report.xml\"; echo suite ran; "
                          "exit " +
                          std::to_string(code)},
          {"results", "/opt/app/results/report.xml"}};
}

TEST(RegressionStep, PassRateDecidesNotTheExitStatus) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("regression", Params(Suite(20, 1, "slow"), 1));
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["tests"], "20");
  EXPECT_EQ(out.facts["failures"], "1");
  EXPECT_EQ(out.facts["errors"], "0");
  EXPECT_EQ(out.facts["skipped"], "0");
  EXPECT_EQ(out.facts["pass_rate"], "95.0");
  EXPECT_EQ(out.facts["failed_cases"], "api.slow");
  EXPECT_EQ(out.facts["command_exit_code"], "1");
  EXPECT_NE(out.result.output_tail.find("suite ran"), std::string::npos);
  EXPECT_NE(out.result.output_tail.find("regression passed"), std::string::npos);
}

TEST(RegressionStep, BelowTheGateFails) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("regression", Params(Suite(20, 2, "orders"), 0));
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["pass_rate"], "90.0");
  EXPECT_EQ(out.facts["command_exit_code"], "0");
  EXPECT_NE(out.result.output_tail.find("regression failed"), std::string::npos);

  std::map<std::string, std::string> lenient = Params(Suite(20, 2), 0);
  lenient["min_pass_rate"] = "90";
  EXPECT_EQ(host.Run("regression", lenient).result.exit_code, 0);
}

TEST(RegressionStep, ReadsEveryXmlFileOfADirectory) {
  testing::LocalStepHost host;
  host.Write("opt/app/tests/.keep", "");
  std::map<std::string, std::string> params = {
      {"command", "mkdir -p out/sub && printf '%s' '" + Suite(10, 0) +
                      "' > out/a.xml && printf '%s' '" + Suite(10, 1, "b1") +
                      "' > 'out/b c.xml' && printf '%s' '" + Suite(50, 50) +
                      "' > out/sub/ignored.xml && echo not xml > out/notes.txt"},
      {"results", "/opt/app/tests/out"},
      {"workdir", "/opt/app/tests"}};
  testing::StepOutcome out = host.Run("regression", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["tests"], "20");
  EXPECT_EQ(out.facts["failures"], "1");
  EXPECT_EQ(out.facts["pass_rate"], "95.0");
}

TEST(RegressionStep, StaleReportNeverPasses) {
  testing::LocalStepHost host;
  std::filesystem::path report = host.Write("opt/app/results/report.xml", Suite(10, 0));
  std::filesystem::last_write_time(
      report, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  testing::StepOutcome out = host.Run("regression", {{"command", "echo crashed; exit 3"},
                                                     {"results", "/opt/app/results/report.xml"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("stale report"), std::string::npos)
      << out.result.output_tail;
  EXPECT_EQ(out.facts["command_exit_code"], "3");

  std::filesystem::create_directories(host.root() / "opt/app/dir");
  std::filesystem::copy(report, host.root() / "opt/app/dir/old.xml");
  std::filesystem::last_write_time(
      host.root() / "opt/app/dir/old.xml",
      std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  testing::StepOutcome dir =
      host.Run("regression", {{"command", "true"}, {"results", "/opt/app/dir"}});
  EXPECT_EQ(dir.result.exit_code, 2) << dir.result.output_tail;
  EXPECT_NE(dir.result.output_tail.find("no *.xml file"), std::string::npos);
}

TEST(RegressionStep, BadReportsAreInputProblems) {
  testing::LocalStepHost host;
  testing::StepOutcome malformed =
      host.Run("regression", Params("<testsuite tests=\"3\"><testcase>", 0));
  EXPECT_EQ(malformed.result.exit_code, 2) << malformed.result.output_tail;
  EXPECT_NE(malformed.result.output_tail.find("report report.xml: malformed XML"),
            std::string::npos)
      << malformed.result.output_tail;

  testing::StepOutcome missing =
      host.Run("regression", {{"command", "true"}, {"results", "/opt/app/results/none.xml"}});
  EXPECT_EQ(missing.result.exit_code, 2);
  EXPECT_NE(missing.result.output_tail.find("no report at /opt/app/results/none.xml"),
            std::string::npos)
      << missing.result.output_tail;

  testing::StepOutcome empty = host.Run("regression", Params("<testsuites/>", 0));
  EXPECT_EQ(empty.result.exit_code, 1) << empty.result.output_tail;
  EXPECT_EQ(empty.facts["pass_rate"], "0.0");

  testing::StepOutcome huge =
      host.Run("regression", {{"command",
                               "mkdir -p \"$ROLLGATE_ROOT/r\" && head -c 9000000 /dev/zero > "
                               "\"$ROLLGATE_ROOT/r/big.xml\""},
                              {"results", "/r/big.xml"}});
  EXPECT_EQ(huge.result.exit_code, 2);
  EXPECT_NE(huge.result.output_tail.find("more than 8388608"), std::string::npos)
      << huge.result.output_tail;
}

TEST(RegressionStep, WorkdirProbeAndValidation) {
  testing::LocalStepHost host;
  testing::StepOutcome no_dir = host.Run(
      "regression", {{"command", "true"}, {"results", "/r.xml"}, {"workdir", "/none $(id)"}});
  EXPECT_EQ(no_dir.result.exit_code, 2);
  EXPECT_NE(no_dir.result.output_tail.find("no directory /none $(id)"), std::string::npos);

  EXPECT_EQ(*host.Probe("regression", {{"command", "true"}, {"results", "/r.xml"}}),
            ProbeVerdict::kNotInPlace);

  EXPECT_NE(
      host.Run("regression", {{"command", "true"}, {"results", "/r.xml"}, {"min_pass_rate", "101"}})
          .error.find("at most 100"),
      std::string::npos);
  EXPECT_NE(host.Run("regression", {{"command", "true"}}).error.find("needs param \"results\""),
            std::string::npos);
  EXPECT_NE(host.Run("regression", {{"command", "true\nfalse"}, {"results", "/r.xml"}})
                .error.find("one line"),
            std::string::npos);
}

}  // namespace
}  // namespace rollgate
