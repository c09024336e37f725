#include "transport/local_transport.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/sha256.h"

namespace rollgate {
namespace {

class LocalTransportTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("local-transport-" +
            std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  CommandSpec Spec(std::vector<std::string> argv) {
    CommandSpec spec;
    spec.argv = std::move(argv);
    spec.timeout = Seconds(20);
    return spec;
  }

  SystemClock clock_;
  LocalTransport local_{clock_};
  std::filesystem::path dir_;
};

TEST_F(LocalTransportTest, ReportsExitCodesAndOutput) {
  auto ok = local_.Run({}, Spec({"echo", "hello", "world"}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_TRUE(ok->succeeded());
  EXPECT_EQ(ok->output_tail, "hello world\n");

  auto failed = local_.Run({}, Spec({"sh", "-c", "echo oops >&2; exit 3"}));
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->exit_code, 3);
  EXPECT_FALSE(failed->succeeded());
  EXPECT_EQ(failed->output_tail, "oops\n");

  auto signalled = local_.Run({}, Spec({"sh", "-c", "kill -9 $$"}));
  ASSERT_TRUE(signalled.ok());
  EXPECT_EQ(signalled->exit_code, 128 + SIGKILL);

  auto missing = local_.Run({}, Spec({"rollgate-no-such-program"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_F(LocalTransportTest, ArgumentsAreNotInterpretedByAShell) {
  std::filesystem::path canary = dir_ / "pwned";
  auto result = local_.Run({}, Spec({"echo", "$(touch " + canary.string() + ")", ";", "`id`"}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output_tail, "$(touch " + canary.string() + ") ; `id`\n");
  EXPECT_FALSE(std::filesystem::exists(canary));
}

TEST_F(LocalTransportTest, FeedsStdinAndEnvironment) {
  CommandSpec spec = Spec({"sh", "-c", "cat; printf '%s' \"$ROLLGATE_X\""});
  spec.stdin_data = std::string(300000, 'x');  // more than a pipe buffer
  spec.env["ROLLGATE_X"] = "value with 'quotes'";
  spec.output_limit = 1 << 20;
  auto result = local_.Run({}, spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output_tail, std::string(300000, 'x') + "value with 'quotes'");
  EXPECT_FALSE(result->output_truncated);
}

// `nice` without arguments prints the niceness it runs at.
TEST_F(LocalTransportTest, CommandsStartAtTheTransportsNiceValue) {
  auto own = local_.Run({}, Spec({"nice"}));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  const int base = std::stoi(own->output_tail);
  LocalTransport niced(clock_, 4);
  auto lowered = niced.Run({}, Spec({"nice"}));
  ASSERT_TRUE(lowered.ok()) << lowered.status().ToString();
  EXPECT_EQ(std::stoi(lowered->output_tail), std::min(base + 4, 19));
}

TEST_F(LocalTransportTest, TimeoutKillsTheChildAndItsChildren) {
  std::filesystem::path pid_file = dir_ / "grandchild.pid";
  CommandSpec spec = Spec({"sh", "-c", "sleep 60 & echo $! > " + pid_file.string() + "; wait"});
  spec.timeout = Seconds(1);
  auto start = std::chrono::steady_clock::now();
  auto result = local_.Run({}, spec);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->timed_out);
  EXPECT_EQ(result->exit_code, kExitUnknown);
  EXPECT_LT(took, std::chrono::seconds(5));

  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  in >> grandchild;
  ASSERT_GT(grandchild, 1);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = kill(grandchild, 0) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived the timeout";
}

TEST_F(LocalTransportTest, TimeoutEscalatesToSigkill) {
  CommandSpec spec = Spec({"sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"});
  spec.timeout = Seconds(1);
  auto result = local_.Run({}, spec);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->timed_out);
  EXPECT_LT(result->elapsed, std::chrono::seconds(6));
}

TEST_F(LocalTransportTest, CapsOutputKeepingTheTail) {
  CommandSpec spec =
      Spec({"sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done"});
  spec.output_limit = 100;
  auto result = local_.Run({}, spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output_tail.size(), 100u);
  EXPECT_TRUE(result->output_truncated);
  EXPECT_TRUE(result->output_tail.ends_with("line4999\n"));
}

TEST_F(LocalTransportTest, WritesTheExitStatusFile) {
  CommandSpec spec = Spec({"sh", "-c", "exit 42"});
  spec.status_file = (dir_ / "runs/R-1/step-1.status").string();
  auto before = local_.ReadExitStatus({}, spec.status_file);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->has_value());
  auto result = local_.Run({}, spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 42);
  auto after = local_.ReadExitStatus({}, spec.status_file);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ(**after, 42);
  // Only the final file remains: no temporary files left behind.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "runs/R-1")) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 2u);  // step-1.status and step-1.status.pid

  std::ofstream(dir_ / "garbage.status") << "not a number";
  auto garbage = local_.ReadExitStatus({}, (dir_ / "garbage.status").string());
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code(), StatusCode::kCorruption);
}

TEST_F(LocalTransportTest, RedactsACanarySecret) {
  const std::string canary = "canary-secret-b7e1d9";
  CommandSpec spec = Spec({"sh", "-c", "echo \"token=$DB_PASSWORD\"; echo also " + canary});
  spec.secret_env["DB_PASSWORD"] = canary;
  auto result = local_.Run({}, spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->output_tail, "token=***\nalso ***\n");
  EXPECT_EQ(result->output_tail.find(canary), std::string::npos);

  CommandSpec listed = Spec({"echo", "pw=hunter2"});
  listed.redact = {"hunter2"};
  auto redacted = local_.Run({}, listed);
  ASSERT_TRUE(redacted.ok());
  EXPECT_EQ(redacted->output_tail, "pw=***\n");
}

TEST_F(LocalTransportTest, CancelStopsARunningCommand) {
  CommandSpec spec = Spec({"sh", "-c", "sleep 60"});
  spec.status_file = (dir_ / "cancel.status").string();
  Result<CommandResult> result = Internal("not run");
  std::thread runner([&] { result = local_.Run({}, spec); });
  while (!std::filesystem::exists(spec.status_file + ".pid")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Status cancelled = local_.Cancel({}, spec.status_file, Seconds(10));
  runner.join();
  EXPECT_TRUE(cancelled.ok()) << cancelled.ToString();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 128 + SIGTERM);
  auto status = local_.ReadExitStatus({}, spec.status_file);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->value_or(-1), 128 + SIGTERM);
  EXPECT_TRUE(local_.Cancel({}, spec.status_file, Seconds(1)).ok());  // already ended
}

TEST_F(LocalTransportTest, ACancelledStatusFileNeverStarts) {
  std::filesystem::path canary = dir_ / "ran";
  CommandSpec spec = Spec({"touch", canary.string()});
  spec.status_file = (dir_ / "cancelled-first.status").string();
  ASSERT_TRUE(local_.Cancel({}, spec.status_file, Seconds(1)).ok());
  auto result = local_.Run({}, spec);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, kExitCancelledBeforeStart);
  EXPECT_FALSE(std::filesystem::exists(canary));
  auto status = local_.ReadExitStatus({}, spec.status_file);
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->has_value());
}

TEST_F(LocalTransportTest, CopiesFilesWithDigestCheck) {
  std::filesystem::path source = dir_ / "source.bin";
  std::ofstream(source, std::ios::binary) << std::string(100000, 'z');
  std::string target = (dir_ / "deep/target.bin").string();
  ASSERT_TRUE(local_.CopyTo({}, source, target, Seconds(10)).ok());
  EXPECT_EQ(*Sha256File(target), *Sha256File(source));
  EXPECT_EQ(local_.CopyTo({}, dir_ / "missing", target, Seconds(10)).code(), StatusCode::kNotFound);
  EXPECT_EQ(local_.CopyTo({}, source, "-oops", Seconds(10)).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rollgate
