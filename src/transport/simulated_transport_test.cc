#include "transport/simulated_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "common/sha256.h"
#include "testing/fake_clock.h"

namespace rollgate {
namespace {

CommandSpec Spec(std::vector<std::string> argv, std::string status_file = "") {
  CommandSpec spec;
  spec.argv = std::move(argv);
  spec.status_file = std::move(status_file);
  return spec;
}

HostAddress Host(int i) { return {"host" + std::to_string(i), "root", 22}; }

// The exit codes of `commands` commands on `hosts` hosts, visiting hosts in the given order.
std::vector<int> Outcomes(SimulatedTransport& transport, const std::vector<int>& order,
                          int commands) {
  std::vector<int> codes(order.size() * commands);
  for (int c = 0; c < commands; ++c) {
    for (int host : order) {
      auto result = transport.Run(Host(host), Spec({"step", std::to_string(c)}));
      EXPECT_TRUE(result.ok());
      codes[host * commands + c] = result->connection_lost ? 1000 : result->exit_code;
    }
  }
  return codes;
}

TEST(SimulatedTransportTest, RandomOutcomesAreDeterministicForASeed) {
  SimulatedHostBehavior flaky;
  flaky.failure_rate = 0.3;
  flaky.connection_loss_rate = 0.1;
  std::vector<int> forward(200), backward(200);
  for (int i = 0; i < 200; ++i) forward[i] = backward[199 - i] = i;

  SimulatedTransport a(42), b(42), c(43);
  for (auto* t : {&a, &b, &c}) t->SetDefaultBehavior(flaky);
  auto first = Outcomes(a, forward, 5);
  auto same_seed_other_order = Outcomes(b, backward, 5);
  auto other_seed = Outcomes(c, forward, 5);
  EXPECT_EQ(first, same_seed_other_order);
  EXPECT_NE(first, other_seed);
  auto failures = std::count(first.begin(), first.end(), 1);
  auto lost = std::count(first.begin(), first.end(), 1000);
  EXPECT_GT(failures, 150);  // about 27% of 1000
  EXPECT_LT(failures, 400);
  EXPECT_GT(lost, 50);  // about 10%
  EXPECT_LT(lost, 160);
}

TEST(SimulatedTransportTest, RecordsEveryCommand) {
  SimulatedTransport transport;
  ASSERT_TRUE(transport.Run(Host(1), Spec({"systemctl", "stop", "demo"})).ok());
  ASSERT_TRUE(transport.Run(Host(2), Spec({"pg_dump", "demo"})).ok());
  ASSERT_TRUE(transport.Run(Host(1), Spec({"systemctl", "start", "demo"})).ok());
  EXPECT_EQ(transport.CommandsRan("host1"),
            (std::vector<std::string>{"systemctl stop demo", "systemctl start demo"}));
  EXPECT_EQ(transport.CommandsRan().size(), 3u);
  EXPECT_EQ(transport.call_count(), 3u);
  transport.Close();
  EXPECT_EQ(transport.close_count(), 1);
  EXPECT_FALSE(transport.Run(Host(1), Spec({})).ok());  // specs are validated like the real ones
}

TEST(SimulatedTransportTest, ScriptedFailuresHitTheNthMatchingCommand) {
  SimulatedTransport transport;
  ScriptedOutcome third_backup;
  third_backup.command_contains = "pg_dump";
  third_backup.skip = 2;
  third_backup.result.exit_code = 3;
  third_backup.result.output_tail = "pg_dump: disk full";
  transport.Script(third_backup);
  ScriptedOutcome unreachable;
  unreachable.host = "host9";
  unreachable.times = -1;
  unreachable.error = Unavailable("host9 unreachable");
  transport.Script(unreachable);

  std::vector<int> codes;
  for (int i = 0; i < 5; ++i) {
    auto result = transport.Run(Host(i), Spec({"pg_dump", "demo"}));
    ASSERT_TRUE(result.ok());
    codes.push_back(result->exit_code);
  }
  EXPECT_EQ(codes, (std::vector<int>{0, 0, 3, 0, 0}));
  for (int i = 0; i < 3; ++i) {
    auto result = transport.Run(Host(9), Spec({"true"}));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code(), StatusCode::kUnavailable);
  }
}

TEST(SimulatedTransportTest, ConnectionLossLeavesTheStatusFileToRead) {
  SimulatedTransport transport;
  ScriptedOutcome lost;
  lost.result.connection_lost = true;
  lost.status_file_code = std::optional<int>(0);  // it finished on the host anyway
  transport.Script(lost);
  ScriptedOutcome unfinished;
  unfinished.result.timed_out = true;
  transport.Script(unfinished);

  const std::string status = "/var/lib/rollgate/runs/R-1/step-4.status";
  auto result = transport.Run(Host(1), Spec({"migrate"}, status));
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->connection_lost);
  auto read = transport.ReadExitStatus(Host(1), status);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->value_or(-1), 0);

  auto timed_out = transport.Run(Host(1), Spec({"migrate"}, status));
  ASSERT_TRUE(timed_out.ok());
  EXPECT_TRUE(timed_out->timed_out);
  auto pending = transport.ReadExitStatus(Host(1), status);
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending->has_value());

  auto normal = transport.Run(Host(2), Spec({"false-ish"}, status));
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(transport.FileOn("host2", status), "0\n");
}

TEST(SimulatedTransportTest, DownHostsAndCopies) {
  SimulatedTransport transport;
  SimulatedHostBehavior down;
  down.down = true;
  transport.SetHostBehavior("host3", down);
  EXPECT_EQ(transport.Run(Host(3), Spec({"true"})).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(transport.Run(Host(4), Spec({"true"})).ok());

  std::filesystem::path local = std::filesystem::path(::testing::TempDir()) / "sim-copy.bin";
  std::ofstream(local) << "payload";
  ASSERT_TRUE(transport.CopyTo(Host(4), local, "/opt/demo/patch.tar.gz", Seconds(5)).ok());
  EXPECT_EQ(transport.FileOn("host4", "/opt/demo/patch.tar.gz"), "sha256:" + Sha256Hex("payload"));
  EXPECT_EQ(transport.CopyTo(Host(3), local, "/x", Seconds(5)).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(transport.Cancel(Host(4), "/tmp/s.status", Seconds(1)).ok());
}

TEST(SimulatedTransportTest, LatencyIsSimulatedNotSlept) {
  SimulatedTransport transport;
  SimulatedHostBehavior slow;
  slow.latency = std::chrono::milliseconds(2000);
  transport.SetDefaultBehavior(slow);
  testing::FakeClock clock(testing::MondayMorning());
  transport.SetLatencySink([&clock](std::chrono::milliseconds latency) {
    clock.Advance(std::chrono::duration_cast<Seconds>(latency));
  });
  auto start = std::chrono::steady_clock::now();
  auto result = transport.Run(Host(1), Spec({"true"}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->elapsed, std::chrono::milliseconds(2000));
  EXPECT_EQ(clock.Now(), testing::MondayMorning() + Seconds(2));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
}

TEST(SimulatedTransportTest, TenThousandHostsAreCheapAndThreadSafe) {
  SimulatedTransport transport(7);
  transport.SetRecording(false);
  SimulatedHostBehavior behavior;
  behavior.failure_rate = 0.01;
  transport.SetDefaultBehavior(behavior);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&transport, t] {
      for (int host = t; host < 10000; host += 4) {
        for (int step = 0; step < 3; ++step) {
          auto result = transport.Run(
              Host(host), Spec({"step", std::to_string(step)},
                               "/var/lib/rollgate/R-1/" + std::to_string(step) + ".status"));
          ASSERT_TRUE(result.ok());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(transport.call_count(), 30000u);
  EXPECT_TRUE(transport.Calls().empty());
  EXPECT_TRUE(transport.FileOn("host9999", "/var/lib/rollgate/R-1/2.status").has_value());
}

}  // namespace
}  // namespace rollgate
