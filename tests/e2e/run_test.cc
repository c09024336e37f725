// Black-box crash tests of `rollgate run exec` / `run resume` (RELIABILITY.md fault 1): the real
// binary dies at a named fault point (ROLLGATE_FAULT_POINT=name:N, _exit(137) as kill -9 would),
// a second process resumes the run, and the invariants hold: every step execution ended
// succeeded, failed or unknown-with-evidence; none is stuck; no step that is not idempotent ran
// twice (each step appends a line to a marker file per host, so the files count executions).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "tests/e2e/cli_harness.h"

namespace rollgate::e2e {
namespace {

int LinesIn(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

// With --output json, exec and resume print one event per line, then the run as one document.
nlohmann::json LastJson(const CommandOutput& output) {
  std::string text = output.out;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t start = text.rfind('\n');
  nlohmann::json doc = nlohmann::json::parse(
      start == std::string::npos ? text : text.substr(start + 1), nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << output.out << output.err;
  return doc.is_discarded() ? nlohmann::json::object() : doc;
}

class RunCrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    harness_.InitDemoConfig();
    marks_ = harness_.dir() / "marks";
    std::filesystem::create_directories(marks_);
    std::string m = marks_.string();
    // prepare: idempotent; migrate: not idempotent, with a probe; start: not idempotent, no probe.
    harness_.WriteFile(
        "plan.json",
        R"({"name": "crash", "status_dir": ")" + (harness_.dir() / "status").string() +
            R"(", "batch": "2", "concurrency": 2, "phases": [{"name": "deploy", "steps": [
          {"name": "prepare", "idempotent": true,
           "script": "echo $ROLLGATE_ATTEMPT >> )" +
            m + R"(/$ROLLGATE_HOST.prepare"},
          {"name": "migrate", "script": "echo x >> )" +
            m + R"(/$ROLLGATE_HOST.migrate",
           "probe": {"argv": ["sh", "-c", "test -s )" +
            m + R"(/$ROLLGATE_HOST.migrate"]}},
          {"name": "start", "script": "echo x >> )" +
            m + R"(/$ROLLGATE_HOST.start"}]}]})");
  }

  CommandOutput Exec(const std::map<std::string, std::string>& env = {}) {
    return harness_.Run(
        {"--as", "heidi", "--output", "json", "run", "exec", "--plan",
         (harness_.dir() / "plan.json").string(), "--hosts", "h1,h2,h3", "--transport", "local"},
        env);
  }

  CliHarness harness_;
  std::filesystem::path marks_;
};

TEST_P(RunCrashTest, KilledAtEveryOccurrenceThenResumedEndsCorrectly) {
  const std::string point = GetParam();
  bool reached_the_end = false;
  for (int n = 1; n <= 12 && !reached_the_end; ++n) {
    SCOPED_TRACE(point + ":" + std::to_string(n));
    std::filesystem::remove_all(marks_);
    std::filesystem::create_directories(marks_);
    CommandOutput killed = Exec({{"ROLLGATE_FAULT_POINT", point + ":" + std::to_string(n)}});
    std::string run = "RUN-" + std::to_string(n);
    if (killed.exit_code == 0) {
      reached_the_end = true;
      continue;
    }
    ASSERT_EQ(killed.exit_code, 137) << killed.err;
    // A second deploy is refused while the run is unfinished, naming it.
    CommandOutput refused = Exec();
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find(run), std::string::npos) << refused.err;

    CommandOutput resumed =
        harness_.Run({"--as", "heidi", "--output", "json", "run", "resume", run, "--wait", "0s"});
    nlohmann::json doc = LastJson(resumed);
    if (doc.value("state", "") == "paused-for-person") {
      // Only `start` (no probe, not idempotent) can need a person; check as a person would.
      EXPECT_EQ(resumed.exit_code, 1);
      std::string attention = doc.value("attention", "");
      ASSERT_NE(attention.find("deploy/start"), std::string::npos) << attention;
      std::vector<std::string> args = {"--as",   "heidi", "--output", "json", "run",
                                       "resume", run,     "--wait",   "0s"};
      for (const auto& step : doc["steps"]) {
        if (step["state"] != "unknown") continue;
        std::string host = step["host"];
        bool in_place = LinesIn(marks_ / (host + ".start")) > 0;
        args.push_back("--decide");
        args.push_back("deploy/start@" + host + (in_place ? "=in-place" : "=not-in-place"));
      }
      resumed = harness_.Run(args);
      doc = LastJson(resumed);
    }
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
    EXPECT_EQ(doc["state"], "succeeded");
    for (const auto& step : doc["steps"]) {
      std::string state = step["state"];
      EXPECT_TRUE(state == "succeeded" || state == "failed" || state == "skipped" ||
                  (state == "unknown" && !step["evidence"].get<std::string>().empty()))
          << step.dump();
    }
    for (const std::string host : {"h1", "h2", "h3"}) {
      EXPECT_EQ(LinesIn(marks_ / (host + ".migrate")), 1) << host << " migrate";
      EXPECT_EQ(LinesIn(marks_ / (host + ".start")), 1) << host << " start";
      EXPECT_GE(LinesIn(marks_ / (host + ".prepare")), 1) << host << " prepare";
    }
    CommandOutput verify = harness_.Run({"--as", "heidi", "--output", "json", "audit", "verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out;
  }
  EXPECT_TRUE(reached_the_end) << "the fault point was hit at every N tried";
}

INSTANTIATE_TEST_SUITE_P(FaultPoints, RunCrashTest,
                         ::testing::Values("intent-committed", "remote-done", "result-committed"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(RunCliTest, ShowListAndCancelOfAFinishedRun) {
  CliHarness harness;
  harness.InitDemoConfig();
  harness.WriteFile("plan.json", R"({"phases": [{"name": "p", "steps": [
      {"name": "hello", "argv": ["echo", "hello"]}]}]})");
  CommandOutput exec = harness.Run({"--as", "heidi", "run", "exec", "--plan",
                                    (harness.dir() / "plan.json").string(), "--hosts", "a,b"});
  ASSERT_EQ(exec.exit_code, 0) << exec.err;
  EXPECT_NE(exec.out.find("RUN-1 succeeded"), std::string::npos) << exec.out;
  CommandOutput show = harness.RunJson({"run", "show", "RUN-1"}, "heidi");
  ASSERT_EQ(show.exit_code, 0);
  nlohmann::json doc = show.Json();
  EXPECT_EQ(doc["id"], "RUN-1");
  ASSERT_EQ(doc["steps"].size(), 2U);
  for (const auto& step : doc["steps"]) {
    for (const char* field : {"step", "host", "state", "exit_code", "started", "finished"}) {
      EXPECT_TRUE(step.contains(field)) << field;
    }
    EXPECT_EQ(step["output_tail"], "hello\n");
  }
  CommandOutput list = harness.RunJson({"run", "list"}, "heidi");
  EXPECT_EQ(list.Json().size(), 1U);
  EXPECT_EQ(harness.RunJson({"run", "show", "RUN-9"}, "heidi").exit_code, 3);
  CommandOutput hostile =
      harness.Run({"--as", "heidi", "run", "exec", "--plan", (harness.dir() / "plan.json").string(),
                   "--hosts", "-oProxyCommand=touch /tmp/x"});
  EXPECT_EQ(hostile.exit_code, 2);
  CommandOutput cancel = harness.RunJson({"run", "cancel", "RUN-1"}, "heidi");
  EXPECT_EQ(cancel.Json()["state"], "succeeded") << "a finished run stays as it is";
}

// The commands a run starts on this machine run at execution.command_nice (default 10) relative
// to rollgate: `nice` without arguments prints the niceness it runs at.
TEST(RunCliTest, TheCommandsOfARunStartAtTheConfiguredNiceValue) {
  CliHarness harness;
  harness.InitDemoConfig();
  harness.WriteFile("plan.json", R"({"phases": [{"name": "p", "steps": [
      {"name": "nice", "idempotent": true, "argv": ["nice"]}]}]})");
  CommandOutput own = RunProgram({"nice"}, harness.dir(), {});
  ASSERT_EQ(own.exit_code, 0);
  const int base = std::stoi(own.out);
  auto step_nice = [&] {
    CommandOutput exec = harness.Run({"--as", "heidi", "--output", "json", "run", "exec", "--plan",
                                      (harness.dir() / "plan.json").string(), "--hosts", "h1",
                                      "--transport", "local"});
    EXPECT_EQ(exec.exit_code, 0) << exec.err;
    nlohmann::json doc = LastJson(exec);
    EXPECT_EQ(doc["steps"].size(), 1U) << exec.out;
    return doc["steps"].empty() ? -100 : std::stoi(doc["steps"][0].value("output_tail", "-100"));
  };
  EXPECT_EQ(step_nice(), std::min(base + 10, 19));
  harness.WriteConfig(harness.ReadFile("rollgate.yaml") + "execution:\n  command_nice: 3\n");
  EXPECT_EQ(step_nice(), std::min(base + 3, 19));
}

}  // namespace
}  // namespace rollgate::e2e
