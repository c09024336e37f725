#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/step_type.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

// A TCP socket bound to 127.0.0.1 on a free port; listening or not (a port that refuses).
class LoopbackPort {
 public:
  explicit LoopbackPort(bool listening) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (listening) {
      EXPECT_EQ(listen(fd_, 16), 0);
    }
  }
  ~LoopbackPort() { close(fd_); }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

Status Validate(std::map<std::string, std::string> params) {
  StepTypeTable table = DefaultStepTypes();
  StepSpec spec;
  spec.name = "check";
  spec.type = "tcp-check";
  spec.params = std::move(params);
  return table.Find("tcp-check")->Validate(spec);
}

TEST(TcpCheckStep, ConnectsToAListeningPort) {
  testing::LocalStepHost host;
  LoopbackPort open(true);
  testing::StepOutcome out = host.Run("tcp-check", {{"targets", open.target() + "\n"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 0) << out.result.output_tail;
  EXPECT_EQ(out.facts["checked"], "1");
  EXPECT_EQ(out.facts["failed"], "0");
  EXPECT_EQ(out.facts["first_failure"], "");
}

TEST(TcpCheckStep, FailsWhenOneTargetRefuses) {
  testing::LocalStepHost host;
  LoopbackPort open(true);
  LoopbackPort closed(false);  // bound, not listening: connections are refused
  testing::StepOutcome out = host.Run(
      "tcp-check", {{"targets", open.target() + "\n" + closed.target()}, {"timeout_seconds", "2"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["checked"], "2");
  EXPECT_EQ(out.facts["failed"], "1");
  EXPECT_EQ(out.facts["first_failure"], closed.target());
  EXPECT_NE(out.result.output_tail.find(closed.target() + ": connection refused"),
            std::string::npos)
      << out.result.output_tail;
}

TEST(TcpCheckStep, AnUnknownHostFails) {
  testing::LocalStepHost host;
  testing::StepOutcome out =
      host.Run("tcp-check", {{"targets", "no-such-host.invalid:5432"}, {"timeout_seconds", "2"}});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 1) << out.result.output_tail;
  EXPECT_EQ(out.facts["first_failure"], "no-such-host.invalid:5432");
}

TEST(TcpCheckStep, TargetsMustBeHostAndPort) {
  EXPECT_TRUE(Validate({{"targets", "db.example.com:5432\n10.0.0.7:80\n[::1]:6379\n"}}).ok());
  for (const std::string& target : std::vector<std::string>{
           "127.0.0.1:80; rm -rf /", "$(id):80", "`id`:80", "-oProxyCommand=x:22", ".x:1", "host:0",
           "host:70000", "host:080", "host", ":80", "a b:80", "[::1;]:80", "host:80\r", "h'q:1",
           "user@host:22", "\n\n"}) {
    EXPECT_FALSE(Validate({{"targets", target}}).ok()) << target;
  }
  EXPECT_FALSE(Validate({}).ok());
  for (const std::string& timeout : std::vector<std::string>{"0", "010", "3601", "1.5", "$(id)"}) {
    EXPECT_FALSE(Validate({{"targets", "h:1"}, {"timeout_seconds", timeout}}).ok()) << timeout;
  }
}

}  // namespace
}  // namespace rollgate
