// The server's runs (cli/serve_runs.h) on a real SQLite store and simulated hosts: runs a dead
// server left are resumed and finished, runs of other processes are left alone, nothing starts
// once the server is stopping, and a refusal reaches the caller.
#include "cli/serve_runs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "config/starter.h"
#include "engine/executor.h"
#include "engine/plan.h"
#include "store/store.h"
#include "transport/simulated_transport.h"

namespace rollgate::cli {
namespace {

class ServerRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rollgate-serve-runs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "rollgate.yaml") << StarterConfigYaml();
    options_.config_path = (dir_ / "rollgate.yaml").string();
    options_.store_url = "sqlite:" + (dir_ / "state.db").string();
    auto opened = OpenStore(options_.store_url);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A run created (not executed) by an owner that is gone: pid 2^30 is never alive.
  std::string LeftRun(const std::string& owner_token, const std::string& system) {
    SimulatedTransport transport;
    StepTypeTable types = DefaultStepTypes();
    RealSleeper sleeper;
    ExecutorOptions owner = OwnerOptions("heidi", Seconds(0));
    owner.owner_pid = 1 << 30;
    owner.owner_token = owner_token;
    Executor executor(*store_, transport, types, clock_, sleeper, owner);
    Plan plan;
    plan.name = "left";
    plan.hosts = {"h1", "h2"};
    StepSpec step;
    step.name = "install";
    step.type = "command";
    step.argv = {"install", "v2"};
    step.timeout = Seconds(30);
    plan.phases.push_back(Phase{"deploy", std::nullopt, {step}});
    Result<std::string> id = executor.Create(plan, {"", system, "DEV", "simulated"});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  RunState StateOf(const std::string& id) {
    rollgate::Run run;
    EXPECT_TRUE(store_
                    ->Read([&](Transaction& tx) -> Status {
                      ASSIGN_OR_RETURN(run, tx.GetRun(id));
                      return Status::Ok();
                    })
                    .ok());
    return run.state;
  }

  std::filesystem::path dir_;
  GlobalOptions options_;
  SystemClock clock_;
  FixedOffsetZone zone_{Seconds(0)};
  std::ostringstream log_;
  std::unique_ptr<Store> store_;
};

TEST_F(ServerRunsTest, ResumesWhatADeadServerLeftAndNothingElse) {
  std::string server_run = LeftRun("serve-0123", "billing");
  std::string cli_run = LeftRun("0123", "payments");
  {
    ServerRuns runs(options_, clock_, zone_, "simulated", 4, log_);
    Result<std::vector<std::string>> resumed = runs.ResumeLeftRuns();
    ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
    EXPECT_EQ(*resumed, std::vector<std::string>{server_run});
    EXPECT_TRUE(runs.Drain(Seconds(60)).empty()) << log_.str();
  }
  EXPECT_EQ(StateOf(server_run), RunState::kSucceeded) << log_.str();
  EXPECT_EQ(StateOf(cli_run), RunState::kPending);  // a person resumes that one (`run resume`)
  EXPECT_NE(log_.str().find(server_run + " resumed and ended succeeded"), std::string::npos)
      << log_.str();
}

TEST_F(ServerRunsTest, RefusalsReachTheCallerAndNothingStartsOnceStopping) {
  ServerRuns runs(options_, clock_, zone_, "simulated", 4, log_);
  Result<server::RunStarted> unknown = runs.StartDeployment("CR-404", "DEV", false, "heidi");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound) << unknown.status().ToString();
  EXPECT_EQ(runs.Cancel("RUN-404", "heidi").code(), StatusCode::kNotFound);

  runs.BeginShutdown();
  Result<server::RunStarted> late = runs.StartDeployment("CR-1", "DEV", false, "heidi");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(runs.Drain(Seconds(5)).empty());
}

}  // namespace
}  // namespace rollgate::cli
