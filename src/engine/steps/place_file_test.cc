#include <gtest/gtest.h>

#include "common/sha256.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

TEST(PlaceFileStep, CopiesIntoTheHostRootAndChecksTheDigest) {
  testing::LocalStepHost host;
  std::filesystem::path inbox = host.Write("inbox/pkg.tar.gz", "package bytes");
  std::string digest = *Sha256File(inbox);
  testing::StepOutcome out = host.Run(
      "place-file", {{"from", inbox.string()}, {"to", "/var/pkg.tar.gz"}, {"sha256", digest}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(*Sha256File(host.root() / "var/pkg.tar.gz"), digest);
  EXPECT_EQ(out.facts["location"], "/var/pkg.tar.gz");
  EXPECT_EQ(*host.Probe("place-file",
                        {{"from", inbox.string()}, {"to", "/var/pkg.tar.gz"}, {"sha256", digest}}),
            ProbeVerdict::kInPlace);
}

TEST(PlaceFileStep, RefusesAFileWithAnotherDigest) {
  testing::LocalStepHost host;
  std::filesystem::path inbox = host.Write("inbox/pkg.tar.gz", "tampered");
  std::string digest(64, 'a');
  testing::StepOutcome out = host.Run(
      "place-file", {{"from", inbox.string()}, {"to", "/var/pkg.tar.gz"}, {"sha256", digest}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(host.root() / "var/pkg.tar.gz"));
  EXPECT_EQ(*host.Probe("place-file",
                        {{"from", inbox.string()}, {"to", "/var/pkg.tar.gz"}, {"sha256", digest}}),
            ProbeVerdict::kNotInPlace);
}

TEST(PlaceFileStep, HostileValuesAreRefusedBeforeAnythingRuns) {
  testing::LocalStepHost host;
  std::string digest(64, 'a');
  EXPECT_NE(
      host.Run("place-file", {{"from", "x; rm -rf /"}, {"to", "/a"}, {"sha256", digest}}).error,
      "");
  EXPECT_NE(
      host.Run("place-file", {{"from", "/a"}, {"to", "/b/../../etc"}, {"sha256", digest}}).error,
      "");
  EXPECT_NE(host.Run("place-file", {{"from", "/a"}, {"to", "/b"}, {"sha256", "$(reboot)"}}).error,
            "");
  // Metacharacters in a valid absolute path are plain data.
  std::filesystem::path odd = host.Write("in/a $(touch pwned) b", "x");
  std::string odd_digest = *Sha256File(odd);
  testing::StepOutcome out = host.Run(
      "place-file", {{"from", odd.string()}, {"to", "/out/'q\" ;x"}, {"sha256", odd_digest}});
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail << out.error;
  EXPECT_TRUE(std::filesystem::exists(host.root() / "out/'q\" ;x"));
  EXPECT_FALSE(std::filesystem::exists("pwned"));
}

}  // namespace
}  // namespace rollgate
