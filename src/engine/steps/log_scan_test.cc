#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

void Append(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

std::map<std::string, std::string> Params(std::string action,
                                          std::map<std::string, std::string> more = {}) {
  more.try_emplace("file", "/var/log/demo/application.log");
  more.try_emplace("state_dir", "/var/lib/rollgate");
  more.try_emplace("label", "app");
  more["action"] = std::move(action);
  return more;
}

TEST(LogScanStep, CountsOnlyLinesWrittenAfterTheMark) {
  testing::LocalStepHost host;
  std::filesystem::path log =
      host.Write("var/log/demo/application.log", "old ERROR before the patch\nold info\n");
  testing::StepOutcome mark = host.Run("log-scan", Params("mark"));
  ASSERT_EQ(mark.error, "");
  EXPECT_EQ(mark.result.exit_code, 0) << mark.result.output_tail;
  EXPECT_EQ(mark.facts["offset"], "36");
  EXPECT_TRUE(std::filesystem::exists(host.root() / "var/lib/rollgate/local/app.offset"));

  testing::StepOutcome clean = host.Run("log-scan", Params("scan"));
  EXPECT_EQ(clean.result.exit_code, 0) << clean.result.output_tail;
  EXPECT_EQ(clean.facts["matches"], "0");
  EXPECT_EQ(clean.facts["scanned_bytes"], "0");
  EXPECT_FALSE(clean.facts.contains("first_match"));

  Append(log, "GET /health 200\nNullPointerException in handler\nFatal: disk\nGET /ready 200\n");
  testing::StepOutcome dirty = host.Run("log-scan", Params("scan"));
  EXPECT_EQ(dirty.result.exit_code, 1) << dirty.result.output_tail;
  EXPECT_EQ(dirty.facts["matches"], "2");
  EXPECT_EQ(dirty.facts["first_match"], "NullPointerException in handler");
  EXPECT_EQ(dirty.facts["scanned_bytes"], "75");
  EXPECT_EQ(dirty.facts["rotated"], "0");
  EXPECT_NE(dirty.result.output_tail.find("Fatal: disk"), std::string::npos);

  testing::StepOutcome tolerated = host.Run("log-scan", Params("scan", {{"max_matches", "2"}}));
  EXPECT_EQ(tolerated.result.exit_code, 0) << tolerated.result.output_tail;

  testing::StepOutcome custom =
      host.Run("log-scan", Params("scan", {{"patterns", "GET /READY\r\n\n"}}));
  EXPECT_EQ(custom.facts["matches"], "1") << custom.result.output_tail;
  EXPECT_EQ(custom.facts["first_match"], "GET /ready 200");
}

TEST(LogScanStep, RotatedLogIsScannedWhole) {
  testing::LocalStepHost host;
  host.Write("var/log/demo/application.log", std::string(1000, 'x') + "\n");
  ASSERT_EQ(host.Run("log-scan", Params("mark")).result.exit_code, 0);
  host.Write("var/log/demo/application.log", "ERROR after rotation\n");
  testing::StepOutcome out = host.Run("log-scan", Params("scan"));
  EXPECT_EQ(out.result.exit_code, 1);
  EXPECT_EQ(out.facts["rotated"], "1");
  EXPECT_EQ(out.facts["matches"], "1");
  EXPECT_EQ(out.facts["scanned_bytes"], "21");
}

TEST(LogScanStep, MissingLogAtMarkCountsFromTheStart) {
  testing::LocalStepHost host;
  testing::StepOutcome mark = host.Run("log-scan", Params("mark"));
  EXPECT_EQ(mark.result.exit_code, 0) << mark.result.output_tail;
  EXPECT_EQ(mark.facts["offset"], "0");
  std::string long_line = "error " + std::string(300, 'y');
  host.Write("var/log/demo/application.log", long_line + "\n");
  testing::StepOutcome out = host.Run("log-scan", Params("scan"));
  EXPECT_EQ(out.facts["matches"], "1");
  EXPECT_EQ(out.facts["first_match"], long_line.substr(0, 200));
}

TEST(LogScanStep, ScanNeedsAMarkAndALog) {
  testing::LocalStepHost host;
  host.Write("var/log/demo/application.log", "error\n");
  testing::StepOutcome no_mark = host.Run("log-scan", Params("scan"));
  EXPECT_EQ(no_mark.result.exit_code, 2);
  EXPECT_NE(no_mark.result.output_tail.find("no mark"), std::string::npos);

  host.Write("var/lib/rollgate/local/app.offset", "12; rm -rf /\n");
  testing::StepOutcome corrupt = host.Run("log-scan", Params("scan"));
  EXPECT_EQ(corrupt.result.exit_code, 2);
  EXPECT_NE(corrupt.result.output_tail.find("corrupt offset"), std::string::npos);

  host.Write("var/lib/rollgate/local/app.offset", "0\n");
  std::filesystem::remove(host.root() / "var/log/demo/application.log");
  testing::StepOutcome no_log = host.Run("log-scan", Params("scan"));
  EXPECT_EQ(no_log.result.exit_code, 2);
  EXPECT_NE(no_log.result.output_tail.find("not found"), std::string::npos);
}

TEST(LogScanStep, HostilePatternsAreFixedStrings) {
  testing::LocalStepHost host;
  std::string marker = (host.root() / "pwned").string();
  host.Write("var/log/demo/application.log", "");
  ASSERT_EQ(host.Run("log-scan", Params("mark")).result.exit_code, 0);
  Append(host.root() / "var/log/demo/application.log",
         "a.*b literal\naxxb\n$(touch " + marker + ")\n");
  testing::StepOutcome out =
      host.Run("log-scan",
               Params("scan", {{"patterns", "a.*b\n$(touch " + marker + ")\n--regexp=x\n'\"`"}}));
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.facts["matches"], "2") << out.result.output_tail;
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(LogScanStep, ProbeSaysWhetherTheMarkIsStored) {
  testing::LocalStepHost host;
  EXPECT_EQ(*host.Probe("log-scan", Params("mark")), ProbeVerdict::kNotInPlace);
  ASSERT_EQ(host.Run("log-scan", Params("mark")).result.exit_code, 0);
  EXPECT_EQ(*host.Probe("log-scan", Params("mark")), ProbeVerdict::kInPlace);
  EXPECT_EQ(*host.Probe("log-scan", Params("scan")), ProbeVerdict::kNotInPlace);
}

TEST(LogScanStep, ValidationRejectsBadParams) {
  testing::LocalStepHost host;
  EXPECT_NE(host.Run("log-scan", Params("rotate")).error.find("mark or scan"), std::string::npos);
  EXPECT_NE(host.Run("log-scan", Params("scan", {{"label", "../x"}})).error.find("name"),
            std::string::npos);
  EXPECT_NE(host.Run("log-scan", Params("scan", {{"file", "relative.log"}})).error.find("absolute"),
            std::string::npos);
  EXPECT_NE(host.Run("log-scan", Params("scan", {{"patterns", "\n\n"}})).error.find("non-empty"),
            std::string::npos);
  EXPECT_NE(host.Run("log-scan", Params("scan", {{"max_matches", "-1"}})).error.find("whole"),
            std::string::npos);
}

}  // namespace
}  // namespace rollgate
