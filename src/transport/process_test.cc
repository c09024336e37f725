#include "transport/process.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace rollgate {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Every behaviour holds whether the exit is noticed through a pidfd or by polling waitpid (what
// happens where the kernel refuses pidfd_open).
class RunProcessTest : public ::testing::TestWithParam<bool> {
 protected:
  ProcessSpec Spec(std::vector<std::string> argv) {
    ProcessSpec spec;
    spec.argv = std::move(argv);
    spec.timeout = std::chrono::seconds(20);
    spec.exit_by_pidfd = GetParam();
    return spec;
  }
  SystemClock clock_;
};

TEST_P(RunProcessTest, ReportsTheExitCodeAndTheOutput) {
  Result<ProcessOutcome> ok =
      RunProcess(Spec({"sh", "-c", "echo out; echo err >&2; exit 7"}), clock_);
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->exit_code, 7);
  EXPECT_FALSE(ok->timed_out);
  EXPECT_EQ(ok->output_tail, "out\nerr\n");
  Result<ProcessOutcome> killed = RunProcess(Spec({"sh", "-c", "kill -9 $$"}), clock_);
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed->exit_code, 128 + SIGKILL);
}

TEST_P(RunProcessTest, FeedsStandardInputLargerThanAPipe) {
  ProcessSpec spec = Spec({"wc", "-c"});
  spec.stdin_data = std::string(size_t{1} << 20, 'x');
  Result<ProcessOutcome> counted = RunProcess(spec, clock_);
  ASSERT_TRUE(counted.ok()) << counted.error().ToString();
  EXPECT_EQ(counted->exit_code, 0);
  EXPECT_THAT(counted->output_tail, HasSubstr("1048576"));
}

// A background process that keeps the output open does not hold the step: the child's exit
// ends the wait, with what was written until then.
TEST_P(RunProcessTest, TheChildsExitEndsTheWaitWhileABackgroundProcessHoldsTheOutput) {
  Result<ProcessOutcome> outcome =
      RunProcess(Spec({"sh", "-c", "echo started; sleep 30 & exit 0"}), clock_);
  ASSERT_TRUE(outcome.ok()) << outcome.error().ToString();
  EXPECT_EQ(outcome->exit_code, 0);
  EXPECT_FALSE(outcome->timed_out);
  EXPECT_EQ(outcome->output_tail, "started\n");
  EXPECT_LT(outcome->elapsed, milliseconds(20000)) << "not the background sleep's 30 s";
  kill(-outcome->pid, SIGKILL);  // the sleep, in the child's process group
}

TEST_P(RunProcessTest, ATimeoutStopsTheChildWithSigtermThenSigkill) {
  ProcessSpec polite = Spec({"sleep", "30"});
  polite.timeout = milliseconds(200);
  Result<ProcessOutcome> stopped = RunProcess(polite, clock_);
  ASSERT_TRUE(stopped.ok()) << stopped.error().ToString();
  EXPECT_TRUE(stopped->timed_out);
  EXPECT_EQ(stopped->exit_code, 128 + SIGTERM);

  // The ignored SIGTERM is inherited by the program it execs.
  ProcessSpec ignores_term = Spec({"sh", "-c", "trap '' TERM; echo ready; exec sleep 30"});
  ignores_term.timeout = milliseconds(200);
  ignores_term.kill_grace = milliseconds(200);
  Result<ProcessOutcome> killed = RunProcess(ignores_term, clock_);
  ASSERT_TRUE(killed.ok()) << killed.error().ToString();
  EXPECT_TRUE(killed->timed_out);
  EXPECT_EQ(killed->exit_code, 128 + SIGKILL);
  EXPECT_EQ(killed->output_tail, "ready\n");
}

// This thread's nice value (Linux keeps one per thread).
int ThreadNice() {
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  EXPECT_EQ(errno, 0);
  return nice;
}

// `nice` without arguments prints the niceness it runs at.
TEST_P(RunProcessTest, AChildStartsAtItsNiceValueAndTheCallingThreadKeepsItsOwn) {
  const int own = ThreadNice();
  ProcessSpec spec = Spec({"nice"});
  spec.nice = 7;
  Result<ProcessOutcome> niced = RunProcess(spec, clock_);
  ASSERT_TRUE(niced.ok()) << niced.error().ToString();
  EXPECT_EQ(niced->output_tail, fmt::format("{}\n", std::min(own + 7, 19)));
  EXPECT_EQ(ThreadNice(), own) << "the spawn lowered its own thread's priority, not this one's";

  spec.nice = 0;
  Result<ProcessOutcome> same = RunProcess(spec, clock_);
  ASSERT_TRUE(same.ok()) << same.error().ToString();
  EXPECT_EQ(same->output_tail, fmt::format("{}\n", own));

  spec.nice = 40;  // beyond the range: the lowest priority there is
  Result<ProcessOutcome> lowest = RunProcess(spec, clock_);
  ASSERT_TRUE(lowest.ok()) << lowest.error().ToString();
  EXPECT_EQ(lowest->output_tail, "19\n");
}

TEST(SpawnPipedTest, APipedChildStartsAtItsNiceValue) {
  const int own = ThreadNice();
  Result<PipedChild> child = SpawnPiped({"nice"}, 5);
  ASSERT_TRUE(child.ok()) << child.error().ToString();
  std::string output;
  char buffer[64];
  ssize_t n = 0;
  while ((n = read(child->stdout_fd.get(), buffer, sizeof buffer)) > 0) {
    output.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_EQ(output, fmt::format("{}\n", std::min(own + 5, 19)));
  EXPECT_EQ(ThreadNice(), own);
}

INSTANTIATE_TEST_SUITE_P(ExitNotice, RunProcessTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Pidfd") : std::string("Waitpid");
                         });

}  // namespace
}  // namespace rollgate
