// `rollgate diagnose` (playbook §7) through the real binary on this machine (local transport):
// a failed run is diagnosed on demand, the report is stored with the run and shown by `run show`,
// and bad input is refused with a clear error and nothing stored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/cli_harness.h"

namespace rollgate::e2e {
namespace {

using ::testing::HasSubstr;

nlohmann::json LastJson(const CommandOutput& output) {
  std::string text = output.out;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t start = text.rfind('\n');
  return nlohmann::json::parse(start == std::string::npos ? text : text.substr(start + 1), nullptr,
                               false);
}

class DiagnoseCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.InitDemoConfig();
    h_.WriteFile("plan.json", R"({"name": "fails", "status_dir": ")" +
                                  (h_.dir() / "status").string() +
                                  R"(", "phases": [{"name": "deploy", "steps": [
          {"name": "start", "script": "echo 'demo: cannot listen on 127.0.0.1:9: Address already in use' >&2; exit 1"}]}]})");
    CommandOutput exec = h_.Run({"--as", "heidi", "--output", "json", "run", "exec", "--plan",
                                 (h_.dir() / "plan.json").string(), "--hosts", "127.0.0.1",
                                 "--transport", "local", "--system", "billing", "--env", "DEV"});
    ASSERT_EQ(exec.exit_code, 1) << exec.out << exec.err;
    nlohmann::json run = LastJson(exec);
    ASSERT_FALSE(run.is_discarded()) << exec.out;
    run_ = run["id"];
  }

  CliHarness h_;
  std::string run_;
};

TEST_F(DiagnoseCliTest, AFailedRunIsDiagnosedOnDemandAndTheReportIsKeptWithTheRun) {
  CommandOutput report = h_.Run({"--as", "heidi", "--output", "json", "diagnose", run_});
  ASSERT_EQ(report.exit_code, 0) << report.out << report.err;
  nlohmann::json d = report.Json();
  EXPECT_EQ(d["run"], run_);
  EXPECT_EQ(d["failure"], "deployment-step-failed");
  EXPECT_EQ(d["section"], "7.1");
  EXPECT_EQ(d["automatic"], false);
  EXPECT_EQ(d["requested_by"], "heidi");
  ASSERT_EQ(d["hosts"], nlohmann::json::array({"127.0.0.1"}));
  std::vector<std::string> checks;
  for (const auto& r : d["results"]) checks.push_back(r["check"]);
  EXPECT_THAT(checks,
              ::testing::ElementsAre("step-output", "log-tail", "permissions", "disk", "ldd"));
  EXPECT_THAT(d["results"][0]["highlights"].dump(), HasSubstr("Address already in use"));
  EXPECT_EQ(d["results"][3]["exit_code"], 0);  // df ran on the host

  nlohmann::json shown = h_.RunJson({"run", "show", run_}).Json();
  ASSERT_EQ(shown["diagnostics"].size(), 1U);
  EXPECT_EQ(shown["diagnostics"][0]["id"], d["id"]);
  CommandOutput text = h_.Run({"run", "show", run_});
  EXPECT_THAT(text.out, HasSubstr("playbook 7.1 Deployment script fails"));
  EXPECT_THAT(text.out, HasSubstr(">> demo: cannot listen on 127.0.0.1:9: Address already in use"));

  // Another table, on request.
  CommandOutput memory =
      h_.Run({"--as", "heidi", "diagnose", run_, "--class", "high-memory", "--host", "127.0.0.1"});
  ASSERT_EQ(memory.exit_code, 0) << memory.err;
  EXPECT_THAT(memory.out, HasSubstr("playbook 7.3 High memory usage"));
  EXPECT_THAT(memory.out, HasSubstr("[top-memory]"));
  EXPECT_EQ(h_.RunJson({"run", "show", run_}).Json()["diagnostics"].size(), 2U);
}

TEST_F(DiagnoseCliTest, BadInputIsRefusedAndNothingIsStored) {
  CommandOutput unknown = h_.Run({"--as", "heidi", "diagnose", "RUN-99"});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("RUN-99"));

  CommandOutput bad_class = h_.Run({"--as", "heidi", "diagnose", run_, "--class", "slow"});
  EXPECT_EQ(bad_class.exit_code, 2);
  EXPECT_THAT(bad_class.err, HasSubstr("unknown failure class 'slow'"));

  CommandOutput bad_host = h_.Run({"--as", "heidi", "diagnose", run_, "--host", "db9"});
  EXPECT_EQ(bad_host.exit_code, 2);
  EXPECT_THAT(bad_host.err, HasSubstr("db9 is not a host of run " + run_));

  CommandOutput bad_flag = h_.Run({"--as", "heidi", "diagnose", run_, "--hots", "x"});
  EXPECT_EQ(bad_flag.exit_code, 2);

  EXPECT_TRUE(h_.RunJson({"run", "show", run_}).Json()["diagnostics"].empty());
}

}  // namespace
}  // namespace rollgate::e2e
