#include <gtest/gtest.h>

#include <filesystem>

#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

TEST(DiskSpaceStep, MeasuresTheVolumeOfTheRoot) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("disk-space", {{"min_free_percent", "0"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["volume"], "/");
  EXPECT_EQ(out.facts["checked"], "1");
  std::filesystem::space_info space = std::filesystem::space(host.root());
  long expected_percent = static_cast<long>(space.available * 100 / space.capacity);
  long measured = std::stol(out.facts["min_free_percent"]);
  EXPECT_LE(std::abs(measured - expected_percent), 1) << out.result.output_tail;
  // df counts in KiB; the figures agree within what other processes write meanwhile.
  double free_bytes = std::stod(out.facts["free_bytes"]);
  EXPECT_GT(free_bytes, 0);
  EXPECT_NEAR(free_bytes, static_cast<double>(space.available), 512.0 * 1024 * 1024);
}

TEST(DiskSpaceStep, FailsBelowTheThresholdAndNamesThePath) {
  testing::LocalStepHost host;
  host.Write("data/file", "x");
  testing::StepOutcome out =
      host.Run("disk-space", {{"paths", "/\n\n/data\n"}, {"min_free_percent", "100"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("/data: "), std::string::npos) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("below 100%"), std::string::npos);
  EXPECT_EQ(out.facts["checked"], "2");
  EXPECT_FALSE(out.facts["volume"].empty());
}

TEST(DiskSpaceStep, DefaultThresholdIsTwentyPercent) {
  testing::LocalStepHost host;
  std::filesystem::space_info space = std::filesystem::space(host.root());
  double free_share = static_cast<double>(space.available) * 100 / space.capacity;
  testing::StepOutcome out = host.Run("disk-space", {{"paths", "/"}});
  ASSERT_EQ(out.error, "");
  if (free_share > 21) {
    EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  }
  if (free_share < 19) {
    EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  }
}

TEST(DiskSpaceStep, AMissingPathIsBadInput) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("disk-space", {{"paths", "/no/such/dir"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2);
  EXPECT_NE(out.result.output_tail.find("/no/such/dir does not exist"), std::string::npos);
}

TEST(DiskSpaceStep, HostilePathsAreDataOrRefused) {
  testing::LocalStepHost host;
  std::string marker = (host.root() / "pwned").string();
  testing::StepOutcome out =
      host.Run("disk-space", {{"paths", "/$(touch " + marker + ")\n/`touch " + marker + "`"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(marker));

  for (const std::string& paths :
       std::vector<std::string>{"relative/dir", "/a/../../etc", "; rm -rf /", "/ok\n x", "\n"}) {
    testing::StepOutcome refused = host.Run("disk-space", {{"paths", paths}});
    EXPECT_NE(refused.error, "") << paths;
  }
  for (const std::string& percent :
       std::vector<std::string>{"101", "-1", "abc", "5; rm -rf /", "$(id)"}) {
    testing::StepOutcome refused = host.Run("disk-space", {{"min_free_percent", percent}});
    EXPECT_NE(refused.error, "") << percent;
  }
}

}  // namespace
}  // namespace rollgate
