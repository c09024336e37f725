// SshTransport without a lab: a stand-in ssh client (SshOptions::ssh_binary) shows how the
// transport starts its clients. The real client against real hosts: ssh_transport_test.cc.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/time.h"
#include "transport/ssh_transport.h"

namespace rollgate {
namespace {

// The stand-in swallows its standard input (the remote script's preamble) and prints the
// niceness it was started at; as a master (-f -N) it prints the same and exits 0.
std::filesystem::path StandInSsh(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::filesystem::path path = dir / "ssh";
  std::ofstream(path) << "#!/bin/sh\ncat >/dev/null\nnice\n";
  chmod(path.c_str(), 0755);
  return path;
}

TEST(SshClientTest, TheSshClientsStartAtTheConfiguredNiceValue) {
  std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "ssh-client-nice";
  std::filesystem::remove_all(dir);
  SystemClock clock;
  auto run_nice = [&](int command_nice) -> int {
    SshOptions options;
    options.ssh_binary = StandInSsh(dir).string();
    options.command_nice = command_nice;
    Result<std::unique_ptr<SshTransport>> transport = SshTransport::Create(clock, options);
    EXPECT_TRUE(transport.ok()) << transport.error().ToString();
    if (!transport.ok()) return -100;
    CommandSpec spec;
    spec.argv = {"true"};
    spec.timeout = Seconds(20);
    Result<CommandResult> ran = (*transport)->Run(HostAddress{"web1", "", 0}, spec);
    EXPECT_TRUE(ran.ok()) << ran.error().ToString();
    if (!ran.ok()) return -100;
    EXPECT_EQ(ran->exit_code, 0) << ran->output_tail;
    return std::stoi(ran->output_tail);
  };
  const int base = run_nice(0);
  EXPECT_EQ(run_nice(6), std::min(base + 6, 19));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rollgate
