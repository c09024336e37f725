#include "transport/host_address.h"

#include <gtest/gtest.h>

#include <string>

namespace rollgate {
namespace {

TEST(HostAddressTest, ParsesNamesUsersPortsAndLiterals) {
  auto plain = ParseHostAddress("web-01.example.com");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->name, "web-01.example.com");
  EXPECT_EQ(plain->user, "");
  EXPECT_EQ(plain->port, 0);

  auto full = ParseHostAddress("deploy@10.0.0.7:2222");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->user, "deploy");
  EXPECT_EQ(full->name, "10.0.0.7");
  EXPECT_EQ(full->port, 2222);
  EXPECT_EQ(full->ToString(), "deploy@10.0.0.7:2222");

  auto v6 = ParseHostAddress("root@[::1]:22");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->name, "::1");
  EXPECT_EQ(v6->port, 22);
  EXPECT_EQ(v6->ToString(), "root@[::1]:22");

  auto v6_no_port = ParseHostAddress("[fe80::1:2]");
  ASSERT_TRUE(v6_no_port.ok());
  EXPECT_EQ(v6_no_port->name, "fe80::1:2");

  EXPECT_TRUE(ParseHostAddress("localhost:65535").ok());
  EXPECT_TRUE(ParseHostAddress("a:1").ok());
  EXPECT_TRUE(ParseHostAddress(std::string(63, 'a') + ".example").ok());
}

TEST(HostAddressTest, RefusesHostileValues) {
  const std::string hostile[] = {
      "-oProxyCommand=x",
      "-oProxyCommand=touch /tmp/pwned",
      "root@-oProxyCommand=x",
      "-l",
      "a;b",
      "a&b",
      "a|b",
      "a>b",
      "$(id)",
      "host$(id)",
      "`id`",
      "a`id`b",
      "a'b",
      "a\"b",
      "a b",
      " host",
      "host\n",
      "host\nProxyCommand x",
      "host\r",
      "host\t",
      std::string("host\0evil", 9),
      std::string(300, 'a'),
      std::string(254, 'a'),
      std::string(64, 'a') + ".example",
      "host:0",
      "host:65536",
      "host:99999999",
      "host:-1",
      "host:22x",
      "host:",
      "host:+22",
      "::1",
      "fe80::1",
      "[::1",
      "[::1]x",
      "[not-v6]:22",
      "[::1]:0",
      "",
      "@host",
      "-root@host",
      "ro ot@host",
      "root;id@host",
      "$USER@host",
      "a..b",
      ".host",
      "host.",
      "-host.example",
      "host-.example",
      "999.1.1.1",
      "1.2.3",
      "host/x",
      "host\\x",
      "h\xc3\xa9st",
      "h\x7fst",
      "host*",
      "host?",
      "~host",
      "host{a,b}",
      "host#x",
      "host%x",
      "user@host@other",
  };
  for (const std::string& text : hostile) {
    auto parsed = ParseHostAddress(text);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << text;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(HostAddressTest, ErrorMessagesEscapeControlCharacters) {
  auto parsed = ParseHostAddress("host\nforged log line");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message().find('\n'), std::string::npos);
}

TEST(HostAddressTest, SeparateValidators) {
  EXPECT_TRUE(ValidateUserName("root").ok());
  EXPECT_TRUE(ValidateUserName("_svc.deploy-1").ok());
  EXPECT_FALSE(ValidateUserName("-l").ok());
  EXPECT_FALSE(ValidateUserName(std::string(33, 'u')).ok());
  EXPECT_TRUE(ValidatePort(1).ok());
  EXPECT_TRUE(ValidatePort(65535).ok());
  EXPECT_FALSE(ValidatePort(0).ok());
  EXPECT_FALSE(ValidatePort(65536).ok());
  EXPECT_TRUE(ValidateHostName("127.0.1.250").ok());
  EXPECT_TRUE(ValidateHostName("2001:db8::7").ok());
  EXPECT_FALSE(ValidateHostName("-oProxyCommand=x").ok());
}

}  // namespace
}  // namespace rollgate
