#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/step_type.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

// An init-script-like fake service in the host root: a background `sleep` and its pid file.
constexpr char kFakeService[] = R"sh(#!/bin/sh
pidfile="$R/run/demo.pid"
case "$1" in
  start) mkdir -p "$R/run"; sleep 300 </dev/null >/dev/null 2>&1 & echo $! >"$pidfile" ;;
  stop) [ -f "$pidfile" ] && kill "$(cat "$pidfile")" && rm -f "$pidfile" ;;
  status) [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null ;;
esac
)sh";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class FakeService {
 public:
  explicit FakeService(testing::LocalStepHost& host) : host_(host) {
    host.Write("srv/demo.sh", kFakeService, true);
  }
  ~FakeService() {
    pid_t pid = Pid();
    if (pid > 0) kill(pid, SIGTERM);
  }
  pid_t Pid() const {
    std::string text = ReadFile(host_.root() / "run/demo.pid");
    return text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
  }
  std::map<std::string, std::string> Params(const std::string& action) const {
    return {{"action", action},
            {"manager", "command"},
            {"start_command", "\"$R/srv/demo.sh\" start"},
            {"stop_command", "\"$R/srv/demo.sh\" stop"},
            {"status_command", "\"$R/srv/demo.sh\" status"},
            {"wait_seconds", "5"}};
  }

 private:
  testing::LocalStepHost& host_;
};

Status Validate(std::map<std::string, std::string> params) {
  StepTypeTable table = DefaultStepTypes();
  StepSpec spec;
  spec.name = "svc";
  spec.type = "service";
  spec.params = std::move(params);
  return table.Find("service")->Validate(spec);
}

TEST(ServiceStep, StartsStopsAndRestartsAndChecksTheState) {
  testing::LocalStepHost host;
  FakeService service(host);

  EXPECT_EQ(*host.Probe("service", service.Params("start")), ProbeVerdict::kNotInPlace);
  testing::StepOutcome out = host.Run("service", service.Params("start"));
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["previous_state"], "stopped");
  EXPECT_EQ(out.facts["state"], "running");
  pid_t first = service.Pid();
  ASSERT_GT(first, 0);
  EXPECT_EQ(kill(first, 0), 0) << "the service outlives the step";
  EXPECT_EQ(*host.Probe("service", service.Params("start")), ProbeVerdict::kInPlace);
  EXPECT_EQ(*host.Probe("service", service.Params("stop")), ProbeVerdict::kNotInPlace);

  // Starting a running service does nothing.
  out = host.Run("service", service.Params("start"));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("already running"), std::string::npos);
  EXPECT_EQ(service.Pid(), first);

  out = host.Run("service", service.Params("status"));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["state"], "running");

  out = host.Run("service", service.Params("restart"));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["previous_state"], "running");
  EXPECT_EQ(out.facts["state"], "running");
  pid_t second = service.Pid();
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);

  out = host.Run("service", service.Params("stop"));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["previous_state"], "running");
  EXPECT_EQ(out.facts["state"], "stopped");
  EXPECT_FALSE(std::filesystem::exists(host.root() / "run/demo.pid"));
  EXPECT_EQ(*host.Probe("service", service.Params("stop")), ProbeVerdict::kInPlace);
  EXPECT_EQ(*host.Probe("service", service.Params("status")), ProbeVerdict::kNotInPlace);

  out = host.Run("service", service.Params("status"));
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["state"], "stopped");
}

TEST(ServiceStep, FailsWhenTheStateDoesNotChange) {
  testing::LocalStepHost host;
  testing::StepOutcome out = host.Run("service", {{"action", "start"},
                                                  {"manager", "command"},
                                                  {"start_command", "echo pretending"},
                                                  {"status_command", "false"},
                                                  {"wait_seconds", "1"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("pretending"), std::string::npos);
  EXPECT_NE(out.result.output_tail.find("the state did not change"), std::string::npos);
  EXPECT_EQ(out.facts["state"], "stopped");

  out = host.Run("service", {{"action", "stop"},
                             {"manager", "command"},
                             {"stop_command", "true"},
                             {"status_command", "true"},
                             {"wait_seconds", "0"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("not stopped"), std::string::npos);
  EXPECT_EQ(out.facts["state"], "running");

  out = host.Run("service", {{"action", "start"},
                             {"manager", "command"},
                             {"start_command", "echo broken >&2; exit 3"},
                             {"status_command", "false"}});
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("command start: exit status 3"), std::string::npos)
      << out.result.output_tail;
}

TEST(ServiceStep, AStatusCommandThatCannotRunIsNotStopped) {
  testing::LocalStepHost host;
  std::map<std::string, std::string> params = {{"action", "stop"},
                                               {"manager", "command"},
                                               {"stop_command", "true"},
                                               {"status_command", "/no/such/status-script"}};
  testing::StepOutcome out = host.Run("service", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_EQ(out.facts["state"], "unknown");
  EXPECT_NE(out.result.output_tail.find("cannot be read"), std::string::npos);
  EXPECT_EQ(*host.Probe("service", params), ProbeVerdict::kUndecided);
}

// systemd through a stand-in `systemctl` first on PATH that records its arguments.
TEST(ServiceStep, SystemdUsesSystemctl) {
  testing::LocalStepHost host;
  host.Write("bin/systemctl", R"sh(#!/bin/sh
echo "$*" >>"$ROLLGATE_TEST_ROOT/systemctl.log"
case "$1" in
  show) case "$5" in missing.service) echo LoadState=not-found ;; *) echo LoadState=loaded ;; esac ;;
  is-active) [ -f "$ROLLGATE_TEST_ROOT/unit.active" ] ;;
  start|restart) touch "$ROLLGATE_TEST_ROOT/unit.active" ;;
  stop) rm -f "$ROLLGATE_TEST_ROOT/unit.active" ;;
esac
)sh",
             true);
  std::string old_path = getenv("PATH") ? getenv("PATH") : "";
  setenv("PATH", ((host.root() / "bin").string() + ":" + old_path).c_str(), 1);
  testing::StepOutcome started =
      host.Run("service", {{"action", "start"}, {"unit", "demo@1.service"}});
  testing::StepOutcome stopped =
      host.Run("service", {{"action", "stop"}, {"unit", "demo@1.service"}});
  testing::StepOutcome missing =
      host.Run("service", {{"action", "stop"}, {"unit", "missing.service"}});
  setenv("PATH", old_path.c_str(), 1);

  EXPECT_EQ(missing.result.exit_code, 2) << missing.result.output_tail;
  EXPECT_NE(missing.result.output_tail.find("systemd has no unit missing.service"),
            std::string::npos);

  EXPECT_EQ(started.result.exit_code, 0) << started.result.output_tail;
  EXPECT_EQ(started.facts["state"], "running");
  EXPECT_EQ(stopped.result.exit_code, 0) << stopped.result.output_tail;
  EXPECT_EQ(stopped.facts["state"], "stopped");
  std::string log = ReadFile(host.root() / "systemctl.log");
  EXPECT_NE(log.find("is-active --quiet -- demo@1.service\nstart -- demo@1.service\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("stop -- demo@1.service\n"), std::string::npos) << log;
}

TEST(ServiceStep, ValidateRefusesIncompleteOrHostileParams) {
  EXPECT_TRUE(Validate({{"action", "restart"}, {"unit", "nginx.service"}}).ok());
  EXPECT_TRUE(
      Validate({{"action", "status"}, {"manager", "command"}, {"status_command", "true"}}).ok());
  // manager=command needs the commands of its action.
  EXPECT_FALSE(
      Validate({{"action", "start"}, {"manager", "command"}, {"start_command", "x"}}).ok());
  EXPECT_FALSE(
      Validate({{"action", "start"}, {"manager", "command"}, {"status_command", "x"}}).ok());
  EXPECT_FALSE(Validate({{"action", "stop"},
                         {"manager", "command"},
                         {"start_command", "x"},
                         {"status_command", "x"}})
                   .ok());
  EXPECT_FALSE(Validate({{"action", "restart"},
                         {"manager", "command"},
                         {"start_command", "x"},
                         {"status_command", "x"}})
                   .ok());
  EXPECT_FALSE(Validate({{"action", "start"},
                         {"manager", "command"},
                         {"start_command", ""},
                         {"status_command", "x"}})
                   .ok());
  EXPECT_FALSE(Validate({{"action", "start"}}).ok());  // systemd without a unit
  EXPECT_FALSE(Validate({{"action", "start"}, {"unit", "a"}, {"start_command", "x"}}).ok());
  EXPECT_FALSE(
      Validate(
          {{"action", "status"}, {"manager", "command"}, {"unit", "a"}, {"status_command", "x"}})
          .ok());
  for (const std::string& action :
       std::vector<std::string>{"", "reload", "start; rm -rf /", "START"}) {
    EXPECT_FALSE(Validate({{"action", action}, {"unit", "a.service"}}).ok()) << action;
  }
  for (const std::string& manager : std::vector<std::string>{"", "sysv", "systemd "}) {
    EXPECT_FALSE(Validate({{"action", "status"}, {"manager", manager}, {"unit", "a"}}).ok());
  }
  for (const std::string& unit : std::vector<std::string>{
           "", "-H evil", "a;rm -rf /", "$(id).service", "a b", "a/b", "`id`", "a\nb", "'a'"}) {
    EXPECT_FALSE(Validate({{"action", "start"}, {"unit", unit}}).ok()) << unit;
  }
  for (const std::string& wait : std::vector<std::string>{"-1", "3601", "010", "1; reboot"}) {
    EXPECT_FALSE(Validate({{"action", "start"}, {"unit", "a"}, {"wait_seconds", wait}}).ok());
  }
}

}  // namespace
}  // namespace rollgate
