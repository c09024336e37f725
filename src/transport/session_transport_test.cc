// SessionTransport's own behaviour on the loopback lab (label "lab"; the fixture of
// ssh_transport_test.cc also runs the shared Transport contract against it): binary-safe
// framing, concurrent commands on one session, stopping a command without a status file, and
// reopening a session that died while idle.
#include "transport/session_transport.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "common/sha256.h"

namespace rollgate {
namespace {

using std::chrono::milliseconds;

const std::filesystem::path kLab = ROLLGATE_TEST_LAB_DIR;
const std::string kSubnet = ROLLGATE_TEST_LAB_SUBNET;

HostAddress LabHost(int i) { return {kSubnet + "." + std::to_string(i), "root", 2222}; }
std::filesystem::path HostRoot(int i) {
  return kLab / "hosts" / ("host" + std::to_string(i)) / "root";
}

class SessionTransportTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kLab / "known_hosts")) << "the lab is not up at " << kLab;
    SshOptions options;
    options.identity_file = kLab / "client" / "id_ed25519";
    options.known_hosts_file = kLab / "known_hosts";
    options.connect_timeout = Seconds(5);
    auto created = SessionTransport::Create(clock_, options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    transport_ = std::move(*created);
  }
  void TearDown() override {
    if (transport_) transport_->Close();
  }

  CommandSpec Spec(std::vector<std::string> argv) {
    CommandSpec spec;
    spec.argv = std::move(argv);
    spec.timeout = Seconds(30);
    return spec;
  }

  SystemClock clock_;
  std::unique_ptr<SessionTransport> transport_;
};

TEST_F(SessionTransportTest, FramingIsBinarySafe) {
  // Input and arguments that look like the protocol's own frames, NUL bytes, no final newline.
  std::string tricky("E 1 0 0 5\n.\nR 9 1 1 1 1\nK 1\n\0\xff binary\0", 34);
  auto echoed = transport_->Run(LabHost(1), [&] {
    CommandSpec spec = Spec({"sh", "-c", "cat; printf '%s' \"$1\"", "sh", "\n.\nE 2 0 0 0\n"});
    spec.stdin_data = tricky;
    return spec;
  }());
  ASSERT_TRUE(echoed.ok()) << echoed.status().ToString();
  EXPECT_EQ(echoed->exit_code, 0);
  EXPECT_EQ(echoed->output_tail, tricky + "\n.\nE 2 0 0 0\n");

  // A MiB of random bytes reaches the command intact; the session is still in step afterwards.
  std::string data(1 << 20, '\0');
  std::mt19937 random(42);
  for (char& c : data) c = static_cast<char>(random() & 0xff);
  CommandSpec digest = Spec({"sha256sum"});
  digest.stdin_data = data;
  auto hashed = transport_->Run(LabHost(1), digest);
  ASSERT_TRUE(hashed.ok()) << hashed.status().ToString();
  EXPECT_EQ(hashed->output_tail.substr(0, 64), Sha256Hex(data));
  auto after = transport_->Run(LabHost(1), Spec({"echo", "still in step"}));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->output_tail, "still in step\n");
}

TEST_F(SessionTransportTest, CommandsForOneHostRunConcurrentlyOnOneSession) {
  HostAddress host = LabHost(2);
  ASSERT_TRUE(transport_->Run(host, Spec({"true"})).ok());  // opens the session
  pid_t session = transport_->SessionPid(host);
  ASSERT_GT(session, 1);
  auto start = clock_.Monotonic();
  std::vector<std::future<Result<CommandResult>>> running;
  for (int i = 0; i < 8; ++i) {
    running.push_back(std::async(std::launch::async, [&, i] {
      return transport_->Run(host, Spec({"sh", "-c", "sleep 1; echo $1", "sh", std::to_string(i)}));
    }));
  }
  for (int i = 0; i < 8; ++i) {
    auto result = running[i].get();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->exit_code, 0);
    EXPECT_EQ(result->output_tail, std::to_string(i) + "\n");
  }
  // Eight one-second commands side by side, not one after the other.
  EXPECT_LT(clock_.Monotonic() - start, std::chrono::seconds(6));
  EXPECT_EQ(transport_->SessionPid(host), session);
}

TEST_F(SessionTransportTest, TimeoutStopsACommandWithoutStatusFile) {
  std::filesystem::path pid_file = HostRoot(3) / "tmp/session-timeout.pid";
  std::filesystem::remove(pid_file);
  CommandSpec spec = Spec({"sh", "-c", "echo $$ >\"$1\"; exec sleep 60", "sh", pid_file.string()});
  spec.timeout = Seconds(3);
  auto result = transport_->Run(LabHost(3), spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->timed_out);
  EXPECT_EQ(result->exit_code, kExitUnknown);
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  ASSERT_GT(pid, 1);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = kill(pid, 0) != 0;
    if (!gone) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(gone) << "remote sleep " << pid << " survived the timeout";
  // The session survived the timeout and still answers.
  auto after = transport_->Run(LabHost(3), Spec({"echo", "ok"}));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->output_tail, "ok\n");
}

TEST_F(SessionTransportTest, SessionThatDiedWhileIdleIsReopened) {
  HostAddress host = LabHost(1);
  ASSERT_TRUE(transport_->Run(host, Spec({"true"})).ok());
  pid_t first = transport_->SessionPid(host);
  ASSERT_GT(first, 1);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  // Idle: the transport notices the end of the session by itself.
  for (int i = 0; i < 100 && transport_->SessionPid(host) != -1; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(transport_->SessionPid(host), -1);
  auto again = transport_->Run(host, Spec({"echo", "reopened"}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->exit_code, 0);
  EXPECT_EQ(again->output_tail, "reopened\n");
  EXPECT_NE(transport_->SessionPid(host), first);
}

TEST_F(SessionTransportTest, LongOutputKeepsItsRedactedTail) {
  const std::string secret = "canary-session-77aa";
  CommandSpec spec = Spec({"sh", "-c",
                           "i=0; while [ $i -lt 2000 ]; do echo \"line $i $S\"; i=$((i+1)); done; "
                           "echo END"});
  spec.secret_env["S"] = secret;
  spec.output_limit = 1000;
  auto result = transport_->Run(LabHost(2), spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_TRUE(result->output_truncated);
  EXPECT_LE(result->output_tail.size(), 1000u);
  EXPECT_EQ(result->output_tail.substr(result->output_tail.size() - 4), "END\n");
  EXPECT_EQ(result->output_tail.find("canary-session"), std::string::npos) << result->output_tail;
  EXPECT_NE(result->output_tail.find("line 1999 ***"), std::string::npos);
}

TEST_F(SessionTransportTest, CopyThatCannotWriteFailsAndLeavesTheSessionInStep) {
  std::filesystem::path local = std::filesystem::path(testing::TempDir()) / "session-copy.bin";
  {
    std::ofstream out(local, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out << "line with a newline\n.\n";
  }
  HostAddress host = LabHost(1);
  // The target's directory cannot be created: the bytes are drained, nothing is written.
  std::filesystem::path blocker = HostRoot(1) / "tmp/session-copy-blocker";
  std::filesystem::remove_all(blocker);
  std::ofstream(blocker) << "a file, not a directory\n";
  Status failed =
      transport_->CopyTo(host, local, (blocker / "sub/target.bin").string(), Seconds(30));
  EXPECT_EQ(failed.code(), StatusCode::kFailed) << failed.ToString();
  pid_t session = transport_->SessionPid(host);
  EXPECT_GT(session, 1);
  auto after = transport_->Run(host, Spec({"echo", "still in step"}));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->output_tail, "still in step\n");

  // The same bytes then reach a writable target intact, over the same session.
  std::filesystem::path target = HostRoot(1) / "tmp/session-copy/target.bin";
  ASSERT_TRUE(transport_->CopyTo(host, local, target.string(), Seconds(30)).ok());
  EXPECT_EQ(*Sha256File(target), *Sha256File(local));
  EXPECT_EQ(transport_->SessionPid(host), session);
  std::filesystem::remove(blocker);
}

TEST_F(SessionTransportTest, StatusFileRunReportsTheTailOfItsOutputFile) {
  std::filesystem::path status = HostRoot(2) / "var/rollgate/session-tail.status";
  CommandSpec spec = Spec(
      {"sh", "-c", "i=0; while [ $i -lt 500 ]; do echo \"line $i\"; i=$((i+1)); done; exit 3"});
  spec.status_file = status.string();
  spec.output_limit = 100;
  auto result = transport_->Run(LabHost(2), spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_TRUE(result->output_truncated);
  EXPECT_LE(result->output_tail.size(), 100u);
  EXPECT_EQ(result->output_tail.substr(result->output_tail.size() - 9), "line 499\n");
  std::string recorded;
  std::ifstream(status) >> recorded;
  EXPECT_EQ(recorded, "3");
}

TEST_F(SessionTransportTest, OversizedSecretsAreRefusedBeforeAnythingRuns) {
  CommandSpec spec = Spec({"true"});
  spec.secret_env["BIG"] = std::string(kMaxSecretBytes + 1, 'x');
  auto result = transport_->Run(LabHost(1), spec);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.error().message().find("xxxx"), std::string::npos);
}

}  // namespace
}  // namespace rollgate
