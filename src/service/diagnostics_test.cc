// The §7 diagnostics on this machine through the local transport: a host root in a temporary
// directory stands for a host (RG_ROOT_ENV, as the lab's hosts), so the real scripts run.
#include "service/diagnostics.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/sha256.h"
#include "transport/local_transport.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// A listening socket on 127.0.0.1 with a port the kernel chose; closed with the object.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd_, 1);
    socklen_t size = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

fs::path MakeTempDirectory() {
  std::string pattern = (fs::temp_directory_path() / "rollgate-diag-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return fs::path(pattern);
}

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Every file under `root` with its content digest: what "nothing changed" compares.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) {
      out[entry.path().string()] = "dir";
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out[entry.path().string()] = Sha256Hex(content);
  }
  return out;
}

class DiagnosticsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDirectory();
    setenv("ROLLGATE_TEST_DIAG_ROOT", root_.c_str(), 1);
    Write(root_ / "opt/demo/VERSION", "1.1.0\n");
    Write(root_ / "etc/demo/demo.conf", "listen=127.0.0.1:8080\n");
    Write(root_ / "var/log/demo/application.log",
          "2026-11-30T06:00:00Z INFO GET /health 200 1ms\n"
          "2026-11-30T06:00:01Z ERROR GET /api/orders 500 3ms\n"
          "2026-11-30T06:00:02Z ERROR database connection to server lost\n");
    system_.name = "demo";
    system_.app_dir = "/opt/demo";
    system_.config_dir = "/etc/demo";
    system_.log_file = "/var/log/demo/application.log";
    system_.service = "demo";
    system_.service_manager = "command";
    system_.status_command = "exit 3";
    system_.host_root_env = "ROLLGATE_TEST_DIAG_ROOT";
    system_.work_dir = "/var/tmp/rollgate";
    system_.port = 8080;
    environment_.name = "DEV";
    plan_.name = "CR-1 demo DEV";
    plan_.hosts = {"127.0.0.1"};
    Phase rollout;
    rollout.name = "rollout";
    StepSpec backup;
    backup.name = "backup-app";
    backup.type = "backup-files";
    StepSpec start;
    start.name = "start";
    start.type = "service";
    rollout.steps = {backup, start};
    plan_.phases = {rollout};
    run_.id = "RUN-3";
    run_.state = RunState::kFailed;
  }
  void TearDown() override { fs::remove_all(root_); }

  StepExecution Execution(int step, StepState state, std::string output, int attempt = 1) {
    StepExecution e;
    e.run_id = run_.id;
    e.phase = 0;
    e.step = step;
    e.step_name = "rollout/" + plan_.phases[0].steps[step].name;
    e.host = "127.0.0.1";
    e.attempt = attempt;
    e.state = state;
    e.exit_code = state == StepState::kSucceeded ? 0 : 1;
    e.output_tail = std::move(output);
    return e;
  }

  DiagnoseRequest Request() {
    DiagnoseRequest request;
    request.system = &system_;
    request.environment = &environment_;
    request.requested_by = "system";
    return request;
  }

  const DiagnosticResult* Find(const DiagnosticReport& report, const std::string& check) {
    for (const DiagnosticResult& r : report.results) {
      if (r.check == check) return &r;
    }
    return nullptr;
  }

  fs::path root_;
  System system_;
  Environment environment_;
  Plan plan_;
  ::rollgate::Run run_;
  SystemClock clock_;
  LocalTransport transport_{clock_};
};

TEST(PortsNamedInTest, FindsThePortsOfBindErrorsOnly) {
  EXPECT_THAT(PortsNamedIn("rollgate-demo-service: cannot listen on 127.0.0.1:9099 (admin "
                           "port): Address already in use\nGET /health 200 port 8080 ok\n"),
              ::testing::ElementsAre(9099));
  EXPECT_THAT(PortsNamedIn("bind() to [::]:443 failed (98: Address already in use)"),
              ::testing::ElementsAre(443));
  EXPECT_THAT(PortsNamedIn("listen tcp port 5432: bind: address already in use"),
              ::testing::ElementsAre(5432));
  EXPECT_TRUE(PortsNamedIn("connected to 10.0.0.1:22").empty());
}

TEST_F(DiagnosticsServiceTest, ServiceThatWillNotStartBecauseAnotherProcessHoldsItsPort) {
  Listener holder;
  std::string failure =
      "demo failed to start\nrollgate-demo-service: cannot listen on "
      "127.0.0.1:" +
      std::to_string(holder.port()) + " (admin port): Address already in use\n";
  std::vector<StepExecution> steps = {Execution(0, StepState::kSucceeded, ""),
                                      Execution(1, StepState::kFailed, failure)};
  auto before = Snapshot(root_);
  Result<DiagnosticReport> report =
      Diagnostician(transport_, clock_).Diagnose(run_, plan_, steps, Request());
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->failure, FailureClass::kServiceStart);
  EXPECT_EQ(report->resolution, "rollback");
  EXPECT_THAT(report->resolution_detail, HasSubstr("7.1"));
  std::vector<std::string> checks;
  for (const DiagnosticResult& r : report->results) checks.push_back(r.check);
  EXPECT_THAT(checks, ::testing::ElementsAre("step-output", "service-status", "journal",
                                             "config-check", "ports", "permissions", "ldd"));
  const DiagnosticResult* ports = Find(*report, "ports");
  ASSERT_NE(ports, nullptr);
  EXPECT_THAT(ports->output, HasSubstr("service running: no"));
  EXPECT_THAT(ports->highlights, Contains(HasSubstr("port " + std::to_string(holder.port()) +
                                                    " is held by another process")));
  const DiagnosticResult* status = Find(*report, "service-status");
  ASSERT_NE(status, nullptr);
  ASSERT_TRUE(status->exit_code.has_value());
  EXPECT_EQ(*status->exit_code, 3);
  const DiagnosticResult* output = Find(*report, "step-output");
  ASSERT_NE(output, nullptr);
  EXPECT_THAT(output->highlights, Contains(HasSubstr("Address already in use")));
  const DiagnosticResult* permissions = Find(*report, "permissions");
  ASSERT_NE(permissions, nullptr);
  EXPECT_THAT(permissions->output, HasSubstr("VERSION"));
  // Read-only: nothing under the host's root changed.
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(DiagnosticsServiceTest, ApplicationErrorsTableReadsTheLogAndSortsErrorsByKind) {
  std::vector<StepExecution> steps = {Execution(0, StepState::kSucceeded, "")};
  DiagnoseRequest request = Request();
  request.failure = FailureClass::kApplicationErrors;
  request.requested_by = "alice";
  request.automatic = false;
  Result<DiagnosticReport> report =
      Diagnostician(transport_, clock_).Diagnose(run_, plan_, steps, request);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->failure, FailureClass::kApplicationErrors);
  EXPECT_FALSE(report->automatic);
  const DiagnosticResult* patterns = Find(*report, "error-patterns");
  ASSERT_NE(patterns, nullptr);
  EXPECT_THAT(patterns->output, HasSubstr("pattern \"error\": 2 of the last 2000 lines"));
  EXPECT_THAT(patterns->output, HasSubstr("api 1\ndatabase 1\n"));
  const DiagnosticResult* version = Find(*report, "version");
  ASSERT_NE(version, nullptr);
  EXPECT_THAT(version->output, HasSubstr("deployed version: 1.1.0"));
  const DiagnosticResult* log = Find(*report, "log-tail");
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->highlights, Contains(HasSubstr("ERROR GET /api/orders 500")));
}

TEST_F(DiagnosticsServiceTest, ChecksAreBoundedInTimeAndOutput) {
  environment_.thresholds.diagnostics_timeout = std::chrono::seconds(1);
  system_.diagnostics.config_check = "sleep 20";
  std::vector<StepExecution> steps = {Execution(0, StepState::kSucceeded, ""),
                                      Execution(1, StepState::kFailed, "demo failed")};
  Result<DiagnosticReport> report =
      Diagnostician(transport_, clock_).Diagnose(run_, plan_, steps, Request());
  ASSERT_TRUE(report.ok()) << report.error().message();
  const DiagnosticResult* check = Find(*report, "config-check");
  ASSERT_NE(check, nullptr);
  EXPECT_TRUE(check->timed_out);
  EXPECT_THAT(check->output, HasSubstr("(stopped after 1s)"));
  EXPECT_LT(check->finished - check->started, std::chrono::seconds(15));

  environment_.thresholds.diagnostics_timeout = std::chrono::seconds(20);
  system_.diagnostics.config_check = "head -c 200000 /dev/zero | tr '\\0' x";
  report = Diagnostician(transport_, clock_).Diagnose(run_, plan_, steps, Request());
  ASSERT_TRUE(report.ok());
  check = Find(*report, "config-check");
  ASSERT_NE(check, nullptr);
  EXPECT_TRUE(check->truncated);
  EXPECT_LE(check->output.size(), 16u * 1024);
}

TEST_F(DiagnosticsServiceTest, DatabaseChecksNeverShowThePassword) {
  setenv("ROLLGATE_TEST_DIAG_PASSWORD", "s3cret-pw-4711", 1);
  int port = 0;
  {
    Listener closed;  // a port nothing listens on once it is closed: connections are refused
    port = closed.port();
  }
  system_.database_url = "postgresql://demo@127.0.0.1:" + std::to_string(port) + "/demo";
  system_.database_password = "env:ROLLGATE_TEST_DIAG_PASSWORD";
  system_.diagnostics.config_check = "echo \"password is ${PGPASSWORD:-unset}\"";
  std::vector<StepExecution> steps = {
      Execution(1, StepState::kFailed,
                "pg_dump: error: connection to server at \"127.0.0.1\", port " +
                    std::to_string(port) + " failed: Connection refused")};
  plan_.phases[0].steps[1].type = "backup-postgres";
  Result<DiagnosticReport> report =
      Diagnostician(transport_, clock_).Diagnose(run_, plan_, steps, Request());
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->failure, FailureClass::kDatabaseConnection);
  EXPECT_EQ(report->resolution, "halt");  // nothing was changed
  const DiagnosticResult* select = Find(*report, "pg-select");
  ASSERT_NE(select, nullptr);
  ASSERT_TRUE(select->exit_code.has_value());
  EXPECT_NE(*select->exit_code, 0);
  EXPECT_FALSE(select->highlights.empty());
  const DiagnosticResult* url = Find(*report, "connection-string");
  ASSERT_NE(url, nullptr);
  EXPECT_THAT(url->output, HasSubstr("postgresql://demo@127.0.0.1"));
  for (const DiagnosticResult& r : report->results) {
    EXPECT_THAT(r.output, Not(HasSubstr("s3cret-pw-4711"))) << r.check;
  }
}

TEST_F(DiagnosticsServiceTest, AnUnknownHostIsRefusedAndAnUnreadablePasswordIsSaid) {
  DiagnoseRequest request = Request();
  request.host = "host9";
  Result<DiagnosticReport> refused =
      Diagnostician(transport_, clock_).Diagnose(run_, plan_, {}, request);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("host9 is not a host of run RUN-3"));

  system_.database_url = "postgresql://demo@127.0.0.1:1/demo";
  system_.database_password = "env:ROLLGATE_TEST_DIAG_UNSET_VARIABLE";
  request = Request();
  request.failure = FailureClass::kDatabaseConnection;
  Result<DiagnosticReport> report =
      Diagnostician(transport_, clock_).Diagnose(run_, plan_, {}, request);
  ASSERT_TRUE(report.ok());
  const DiagnosticResult* ready = Find(*report, "pg-ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_FALSE(ready->exit_code.has_value());
  EXPECT_THAT(ready->output, AllOf(HasSubstr("not run"), HasSubstr("password")));
}

TEST_F(DiagnosticsServiceTest, FactsFromTheRecordUseTheLatestAttemptAndKnowWhatChanged) {
  std::vector<StepExecution> steps = {
      Execution(1, StepState::kFailed, "connection reset by peer", 1),
      Execution(1, StepState::kFailed, "connection reset by peer", 2),
      Execution(1, StepState::kFailed, "connection reset by peer", 3)};
  FailureFacts facts = FailureFactsFromRun(plan_, steps, {});
  ASSERT_EQ(facts.failed.size(), 1u);
  EXPECT_EQ(facts.failed[0].attempts, 3);
  EXPECT_EQ(facts.failed[0].type, "service");
  EXPECT_FALSE(facts.changed);
  steps.push_back(Execution(0, StepState::kSucceeded, ""));
  EXPECT_TRUE(FailureFactsFromRun(plan_, steps, {}).changed);
  Diagnosis d = ClassifyFailure(FailureFactsFromRun(plan_, steps, {}));
  EXPECT_TRUE(d.transient);
  EXPECT_EQ(d.attempts, 3);
}

}  // namespace
}  // namespace rollgate
