// Tests of the remote transports against the loopback lab (label "lab"): CMake's fixture runs
// `lab/lab.sh up 3` in a lab directory of its own (ROLLGATE_TEST_LAB_DIR, hosts on
// ROLLGATE_TEST_LAB_SUBNET.1-3 port 2222) before, and `lab/lab.sh down` after, also on failure.
// Every test runs against SshTransport (a ControlMaster per host, a session per command) and
// SessionTransport (one streamed session per host): both keep the same contract.
#include "transport/ssh_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <thread>

#include "common/sha256.h"
#include "transport/process.h"
#include "transport/session_transport.h"
#include "transport/shell.h"

namespace rollgate {
namespace {

using std::chrono::milliseconds;

const std::filesystem::path kLab = ROLLGATE_TEST_LAB_DIR;
const std::string kSubnet = ROLLGATE_TEST_LAB_SUBNET;

HostAddress LabHost(int i) { return {kSubnet + "." + std::to_string(i), "root", 2222}; }
std::filesystem::path HostRoot(int i) {
  return kLab / "hosts" / ("host" + std::to_string(i)) / "root";
}

enum class Kind { kSsh, kSession };

// Reads "Master running (pid=N)" from `ssh -O check`.
pid_t MasterPid(SshTransport& transport, const HostAddress& host) {
  SystemClock clock;
  ProcessSpec check;
  check.argv = {"ssh",    "-o",    "ControlPath=" + transport.ControlSocketPath(host).string(),
                "-O",     "check", "--",
                host.name};
  check.timeout = Seconds(10);
  auto outcome = RunProcess(check, clock);
  if (!outcome.ok()) return -1;
  size_t at = outcome->output_tail.find("pid=");
  if (at == std::string::npos) return -1;
  return static_cast<pid_t>(std::stol(outcome->output_tail.substr(at + 4)));
}

class SshTransportTest : public testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kLab / "known_hosts")) << "the lab is not up at " << kLab;
    transport_ = Make(kLab / "known_hosts", HostKeyPolicy::kStrict);
    ASSERT_NE(transport_, nullptr);
    name_ = testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name_.begin(), name_.end(), '/', '-');
  }
  void TearDown() override {
    if (transport_) transport_->Close();
  }

  std::unique_ptr<Transport> Make(const std::filesystem::path& known_hosts, HostKeyPolicy policy,
                                  Seconds connect_timeout = Seconds(5)) {
    SshOptions options;
    options.identity_file = kLab / "client" / "id_ed25519";
    options.known_hosts_file = known_hosts;
    options.host_key_policy = policy;
    options.connect_timeout = connect_timeout;
    if (GetParam() == Kind::kSession) {
      auto created = SessionTransport::Create(clock_, options);
      EXPECT_TRUE(created.ok()) << created.status().ToString();
      return created.ok() ? std::unique_ptr<Transport>(std::move(*created)) : nullptr;
    }
    auto created = SshTransport::Create(clock_, options);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::unique_ptr<Transport>(std::move(*created)) : nullptr;
  }

  // The local ssh process carrying `host`'s connection: the master, or the session.
  pid_t ConnectionPid(const HostAddress& host) {
    if (GetParam() == Kind::kSession) {
      return static_cast<SessionTransport&>(*transport_).SessionPid(host);
    }
    return MasterPid(static_cast<SshTransport&>(*transport_), host);
  }

  // Every argument of the ssh command lines this transport would start for `spec` on `host`.
  std::vector<std::string> CommandLines(const HostAddress& host, const CommandSpec& spec) {
    if (GetParam() == Kind::kSession) {
      return static_cast<SessionTransport&>(*transport_).SessionArgv(host);
    }
    return static_cast<SshTransport&>(*transport_).SshArgv(host, BuildRemoteScript(spec));
  }

  CommandSpec Spec(std::vector<std::string> argv) {
    CommandSpec spec;
    spec.argv = std::move(argv);
    spec.timeout = Seconds(30);
    return spec;
  }

  // A fresh status file path on lab host `host` (left-overs of earlier runs removed).
  std::string StatusFile(int host, const std::string& suffix) {
    std::string path =
        (HostRoot(host) / "var/rollgate/runs" / (name_ + "-" + suffix + ".status")).string();
    for (const char* extension : {"", ".pid", ".out", ".cancel"})
      std::filesystem::remove(path + extension);
    return path;
  }

  SystemClock clock_;
  std::unique_ptr<Transport> transport_;
  std::string name_;
};

TEST_P(SshTransportTest, RunsACommandWithQuotedArgumentsAndExitCode) {
  const std::string hostile = "$(touch /tmp/rollgate-pwned) `id` ; rm -rf / 'x' \"y\"\n";
  CommandSpec spec = Spec({"printf", "%s|%s|%s", hostile, "$HOME", ""});
  auto result = transport_->Run(LabHost(1), spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 0) << result->output_tail;
  EXPECT_EQ(result->output_tail, hostile + "|$HOME|");
  EXPECT_FALSE(std::filesystem::exists("/tmp/rollgate-pwned"));

  auto failed = transport_->Run(LabHost(1), Spec({"sh", "-c", "echo to-stderr >&2; exit 9"}));
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->exit_code, 9);
  EXPECT_FALSE(failed->connection_lost);
  EXPECT_EQ(failed->output_tail, "to-stderr\n");

  CommandSpec with_env = Spec({"sh", "-c", "printf '%s:%s:' \"$A\" \"$ROLLGATE_LAB_HOST\"; cat"});
  with_env.env["A"] = "it's";
  with_env.stdin_data = "from stdin";
  auto env = transport_->Run(LabHost(2), with_env);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->output_tail, "it's:host2:from stdin");
}

TEST_P(SshTransportTest, SecretsTravelOnStdinAndAreRedacted) {
  const std::string canary = "canary-ssh-3c9e51";
  CommandSpec spec = Spec({"sh", "-c",
                           "echo \"pw=$DB_PASSWORD\"; ps -eo args | grep -c " +
                               std::string("canary-ssh") + " || true"});
  spec.secret_env["DB_PASSWORD"] = canary;
  spec.status_file = StatusFile(1, "secret");
  for (const std::string& arg : CommandLines(LabHost(1), spec)) {
    EXPECT_EQ(arg.find(canary), std::string::npos) << "secret on the ssh command line";
  }
  auto result = transport_->Run(LabHost(1), spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->output_tail.find(canary), std::string::npos) << result->output_tail;
  EXPECT_NE(result->output_tail.find("pw=***"), std::string::npos) << result->output_tail;
}

// The TCP connection a command ran over, as the host saw it ("client port server port": the
// client port names the connection, so commands of other tests running meanwhile do not matter).
std::string ConnectionOf(Transport& transport, const HostAddress& host) {
  CommandSpec spec;
  spec.argv = {"printenv", "SSH_CONNECTION"};
  spec.timeout = Seconds(30);
  auto result = transport.Run(host, spec);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return "";
  EXPECT_EQ(result->exit_code, 0) << result->output_tail;
  return result->output_tail;
}

TEST_P(SshTransportTest, OneConnectionPerHostIsOpenedOnceAndReused) {
  HostAddress host = LabHost(3);
  EXPECT_EQ(ConnectionPid(host), -1);
  auto cold_start = clock_.Monotonic();
  std::string first = ConnectionOf(*transport_, host);
  auto cold = std::chrono::duration_cast<milliseconds>(clock_.Monotonic() - cold_start);
  ASSERT_FALSE(first.empty());
  pid_t connection = ConnectionPid(host);
  EXPECT_GT(connection, 1);

  milliseconds warm{0};
  for (int i = 0; i < 3; ++i) {
    auto start = clock_.Monotonic();
    EXPECT_EQ(ConnectionOf(*transport_, host), first);
    warm += std::chrono::duration_cast<milliseconds>(clock_.Monotonic() - start);
  }
  // Three more commands over the same connection and local ssh process. (Timing is printed, not
  // asserted: on a loaded machine the login shell's start-up dominates.)
  EXPECT_EQ(ConnectionPid(host), connection);
  std::cout << "cold (connect + command) " << cold.count() << " ms, warm command "
            << (warm / 3).count() << " ms\n";

  transport_->Close();
  EXPECT_EQ(ConnectionPid(host), -1);
  std::string reopened = ConnectionOf(*transport_, host);
  EXPECT_FALSE(reopened.empty());
  EXPECT_NE(reopened, first);
}

TEST_P(SshTransportTest, CopiesAFileWithDigestCheck) {
  std::filesystem::path local = std::filesystem::path(testing::TempDir()) / (name_ + ".bin");
  {
    std::ofstream out(local, std::ios::binary);
    for (int i = 0; i < (1 << 20) / 16; ++i) out << "0123456789abcdef";
  }
  std::string remote = (HostRoot(2) / "tmp/deep" / name_ / "patch.bin").string();
  std::filesystem::remove(remote);
  ASSERT_TRUE(transport_->CopyTo(LabHost(2), local, remote, Seconds(30)).ok());
  EXPECT_EQ(*Sha256File(remote), *Sha256File(local));
  auto digest = transport_->Run(LabHost(2), Spec({"sha256sum", remote}));
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(digest->output_tail.substr(0, 64), *Sha256File(local));
  for (const auto& entry : std::filesystem::directory_iterator(HostRoot(2) / "tmp/deep" / name_)) {
    EXPECT_EQ(entry.path().string().find("rollgate-tmp"), std::string::npos);
  }
  EXPECT_EQ(transport_->CopyTo(LabHost(2), local, "-oProxyCommand=x", Seconds(5)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_->CopyTo(LabHost(2), "/nonexistent/file", remote, Seconds(5)).code(),
            StatusCode::kNotFound);
}

TEST_P(SshTransportTest, ExitStatusIsReadableAfterTheConnectionWasKilled) {
  HostAddress host = LabHost(1);
  ASSERT_TRUE(transport_->Run(host, Spec({"true"})).ok());  // opens the master
  pid_t master = ConnectionPid(host);
  ASSERT_GT(master, 1);

  // Long enough to be killed mid-command even on a loaded machine, where a login takes seconds.
  CommandSpec spec = Spec({"sh", "-c", "sleep 6; echo done; exit 7"});
  spec.status_file = StatusFile(1, "killed");
  auto running = std::async(std::launch::async, [&] { return transport_->Run(host, spec); });
  // The host's file system is local in the lab: wait for the wrapper's pid file.
  for (int i = 0; i < 3000 && !std::filesystem::exists(spec.status_file + ".pid"); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(spec.status_file + ".pid"));
  ASSERT_EQ(kill(master, SIGKILL), 0);
  auto result = running.get();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->connection_lost);
  EXPECT_EQ(result->exit_code, kExitUnknown);

  // The command went on running on the host; its outcome is read, not guessed.
  std::optional<int> code;
  for (int i = 0; i < 300 && !code; ++i) {
    auto status = transport_->ReadExitStatus(host, spec.status_file);
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    code = *status;
    if (!code) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 7);
  std::ifstream output(spec.status_file + ".out");
  std::string line;
  std::getline(output, line);
  EXPECT_EQ(line, "done");
}

TEST_P(SshTransportTest, CommandTimeoutStopsTheRemoteProcess) {
  HostAddress host = LabHost(2);
  CommandSpec spec = Spec({"sleep", "60"});
  spec.timeout = Seconds(8);  // the login shell alone may take seconds on a loaded machine
  spec.status_file = StatusFile(2, "timeout");
  auto result = transport_->Run(host, spec);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->timed_out);
  EXPECT_LT(result->elapsed, std::chrono::seconds(20));
  std::ifstream pid_file(spec.status_file + ".pid");
  pid_t pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 1);
  EXPECT_NE(kill(pid, 0), 0) << "remote sleep " << pid << " survived the timeout";
  auto status = transport_->ReadExitStatus(host, spec.status_file);
  ASSERT_TRUE(status.ok());
  ASSERT_TRUE(status->has_value());
  EXPECT_EQ(**status, 128 + SIGTERM);
}

TEST_P(SshTransportTest, CancelReturnsOnceTheRemoteProcessIsGone) {
  HostAddress host = LabHost(3);
  CommandSpec spec = Spec({"sh", "-c", "trap '' TERM; sleep 60 & wait; sleep 60"});
  spec.timeout = Seconds(90);
  spec.status_file = StatusFile(3, "cancel");
  auto running = std::async(std::launch::async, [&] { return transport_->Run(host, spec); });
  for (int i = 0; i < 500 && !std::filesystem::exists(spec.status_file + ".pid"); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  Status cancelled = transport_->Cancel(host, spec.status_file, Seconds(10));
  EXPECT_TRUE(cancelled.ok()) << cancelled.ToString();
  auto result = running.get();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 128 + SIGKILL);  // it ignored SIGTERM
  std::ifstream pid_file(spec.status_file + ".pid");
  pid_t pid = 0;
  pid_file >> pid;
  EXPECT_NE(kill(-pid, 0), 0) << "process group " << pid << " survived Cancel";
  std::string never = StatusFile(3, "never-started");
  EXPECT_TRUE(transport_->Cancel(host, never, Seconds(1)).ok());
  std::filesystem::path canary = HostRoot(3) / "tmp" / (name_ + "-ran");
  std::filesystem::remove(canary);
  CommandSpec late = Spec({"touch", canary.string()});
  late.status_file = never;
  auto refused = transport_->Run(host, late);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->exit_code, kExitCancelledBeforeStart);
  EXPECT_FALSE(std::filesystem::exists(canary));
}

TEST_P(SshTransportTest, HostWithNothingListeningFailsCleanly) {
  auto start = clock_.Monotonic();
  auto result = transport_->Run({kSubnet + ".250", "root", 2222}, Spec({"true"}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), StatusCode::kUnavailable) << result.status().ToString();
  EXPECT_LT(clock_.Monotonic() - start, std::chrono::seconds(10));
  auto status = transport_->ReadExitStatus({kSubnet + ".250", "root", 2222}, "/tmp/x.status");
  EXPECT_FALSE(status.ok());
}

TEST_P(SshTransportTest, HostThatStopsAnsweringTimesOut) {
  // A listening socket that never accepts: TCP connects, the SSH banner never comes. (One
  // address per transport: both variants may run at the same time.)
  const std::string silent_host = kSubnet + (GetParam() == Kind::kSsh ? ".251" : ".252");
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  UniqueFd socket_fd(fd);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(2222);
  inet_pton(AF_INET, silent_host.c_str(), &address.sin_addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  auto silent = Make(kLab / "known_hosts", HostKeyPolicy::kStrict, Seconds(2));
  ASSERT_NE(silent, nullptr);
  auto start = clock_.Monotonic();
  auto result = silent->Run({silent_host, "root", 2222}, Spec({"true"}));
  auto took = clock_.Monotonic() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), StatusCode::kDeadlineExceeded) << result.status().ToString();
  EXPECT_LT(took, std::chrono::seconds(15));
}

TEST_P(SshTransportTest, StrictPolicyRefusesUnknownHostKey) {
  std::filesystem::path empty = std::filesystem::path(testing::TempDir()) / (name_ + "-empty");
  std::ofstream(empty).close();
  auto strict = Make(empty, HostKeyPolicy::kStrict);
  auto refused = strict->Run(LabHost(1), Spec({"touch", "/tmp/rollgate-should-not-exist"}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), StatusCode::kPermissionDenied) << refused.status().ToString();
  EXPECT_FALSE(std::filesystem::exists("/tmp/rollgate-should-not-exist"));

  std::filesystem::path learned = std::filesystem::path(testing::TempDir()) / (name_ + "-learned");
  std::filesystem::remove(learned);
  auto accept_new = Make(learned, HostKeyPolicy::kAcceptNew);
  auto accepted = accept_new->Run(LabHost(1), Spec({"true"}));
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->exit_code, 0);
  accept_new->Close();
  EXPECT_GT(std::filesystem::file_size(learned), 0u);
}

TEST_P(SshTransportTest, HostileHostNamesNeverBecomeOptions) {
  std::filesystem::path canary = std::filesystem::path(testing::TempDir()) / "proxy-canary";
  std::filesystem::remove(canary);
  HostAddress hostile{"-oProxyCommand=touch " + canary.string(), "root", 2222};
  auto result = transport_->Run(hostile, Spec({"true"}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseHostAddress(hostile.name).ok());
  HostAddress hostile_user{kSubnet + ".1", "-oProxyCommand=x", 2222};
  EXPECT_EQ(transport_->Run(hostile_user, Spec({"true"})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(canary));
  auto argv = CommandLines(LabHost(1), Spec({"true"}));
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[argv.size() - 3], "--");
  EXPECT_EQ(argv[argv.size() - 2], LabHost(1).name);
}

INSTANTIATE_TEST_SUITE_P(Transports, SshTransportTest, testing::Values(Kind::kSsh, Kind::kSession),
                         [](const testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kSsh ? "Ssh" : "Session";
                         });

}  // namespace
}  // namespace rollgate
