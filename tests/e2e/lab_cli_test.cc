// `rollgate lab up|down|status` against a stand-in lab script ($ROLLGATE_LAB_SCRIPT) that
// records how it was called: argument checks, --json pass-through, the lab directory, the
// rollgate.yaml fragment. The real lab is exercised by the transport_lab fixture.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "tests/e2e/cli_harness.h"

namespace rollgate::e2e {
namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class LabCliTest : public testing::Test {
 protected:
  void SetUp() override {
    lab_ = cli_.dir() / "lab";
    script_ = cli_.dir() / "fake-lab.sh";
    // Records "ARGS|ROLLGATE_LAB_DIR" per call; `up N` writes hosts.csv like lab.sh does.
    cli_.WriteFile("fake-lab.sh", R"(#!/bin/sh
printf '%s|%s\n' "$*" "$ROLLGATE_LAB_DIR" >>"$ROLLGATE_LAB_DIR.calls"
case $1 in
  up)
    mkdir -p "$ROLLGATE_LAB_DIR"
    echo host,address,ssh_port,http_port,user,root >"$ROLLGATE_LAB_DIR/hosts.csv"
    i=1
    while [ "$i" -le "$2" ]; do
      echo "host$i,127.0.1.$i,2222,8080,rollgate-lab,$ROLLGATE_LAB_DIR/hosts/host$i/root" >>"$ROLLGATE_LAB_DIR/hosts.csv"
      i=$((i + 1))
    done ;;
  status)
    if [ "$2" = --json ]; then echo '{"lab_dir":"'"$ROLLGATE_LAB_DIR"'","hosts":[],"postgres":{"running":true}}'; else echo "host1 running"; fi ;;
  down) [ -f "$ROLLGATE_LAB_DIR.fail" ] && { echo "something did not stop" >&2; exit 1; } ;;
esac
exit 0
)");
    chmod(script_.c_str(), 0755);
    env_ = {{"ROLLGATE_LAB_SCRIPT", script_.string()}, {"ROLLGATE_LAB_DIR", lab_.string()}};
  }

  std::string Calls() { return ReadAll(lab_.string() + ".calls"); }

  CliHarness cli_;
  std::filesystem::path lab_, script_;
  std::map<std::string, std::string> env_;
};

TEST_F(LabCliTest, RefusesHostCountsOutsideOneTo200) {
  for (const char* count : {"0", "201", "-3", "many"}) {
    CommandOutput out = cli_.Run({"lab", "up", count}, env_);
    EXPECT_EQ(out.exit_code, 2) << count << ": " << out.err;
  }
  EXPECT_EQ(cli_.Run({"lab", "up"}, env_).exit_code, 2);
  EXPECT_EQ(Calls(), "") << "the script must not run on bad usage";
}

TEST_F(LabCliTest, UpRunsTheScriptAndWritesTheHostsFragment) {
  CommandOutput out = cli_.Run({"lab", "up", "4"}, env_);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(Calls(), "up 4|" + lab_.string() + "\n");
  EXPECT_NE(out.out.find("ssh -F " + lab_.string() + "/ssh_config host1"), std::string::npos)
      << out.out;
  std::string fragment = ReadAll(lab_ / "rollgate-hosts.yaml");
  EXPECT_NE(fragment.find("DEV: [rollgate-lab@127.0.1.1:2222]"), std::string::npos) << fragment;
  EXPECT_NE(fragment.find("TEST: [rollgate-lab@127.0.1.2:2222]"), std::string::npos) << fragment;
  EXPECT_NE(fragment.find("PROD: [rollgate-lab@127.0.1.3:2222, rollgate-lab@127.0.1.4:2222]"),
            std::string::npos)
      << fragment;

  // The fragment's system is valid configuration (starter file + the lab's system).
  cli_.InitDemoConfig();
  std::string config = ReadAll(cli_.dir() / "rollgate.yaml");
  std::string system = fragment.substr(fragment.find("  - name: demo"));
  size_t systems = config.find("\nsystems:");
  ASSERT_NE(systems, std::string::npos) << "starter configuration has no systems: key";
  size_t line_end = config.find('\n', systems + 1);
  config.replace(systems + 1, line_end - systems - 1, "systems:\n" + system);
  cli_.WriteConfig(config);
  CommandOutput valid = cli_.Run({"validate"});
  EXPECT_EQ(valid.exit_code, 0) << valid.err << "\n" << config;
}

TEST_F(LabCliTest, JsonOutputPassesJsonToTheScript) {
  CommandOutput status = cli_.Run({"lab", "status", "--output", "json"}, env_);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.Json()["lab_dir"], lab_.string());
  EXPECT_EQ(Calls(), "status --json|" + lab_.string() + "\n");

  CommandOutput up = cli_.Run({"lab", "up", "1", "--output", "json"}, env_);
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(up.Json()["rollgate_yaml"], (lab_ / "rollgate-hosts.yaml").string());
}

TEST_F(LabCliTest, DirOptionAndFailuresOfTheScript) {
  std::filesystem::path other = cli_.dir() / "other-lab";
  std::ofstream(other.string() + ".fail").close();
  CommandOutput down = cli_.Run({"lab", "--dir", other.string(), "down"}, env_);
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("something did not stop"), std::string::npos) << down.err;
  EXPECT_EQ(ReadAll(other.string() + ".calls"), "down|" + other.string() + "\n");

  std::map<std::string, std::string> missing = env_;
  missing["ROLLGATE_LAB_SCRIPT"] = (cli_.dir() / "no-such-lab.sh").string();
  CommandOutput absent = cli_.Run({"lab", "status"}, missing);
  EXPECT_EQ(absent.exit_code, 3) << absent.err;
  EXPECT_NE(absent.err.find("ROLLGATE_LAB_SCRIPT"), std::string::npos) << absent.err;
}

}  // namespace
}  // namespace rollgate::e2e
