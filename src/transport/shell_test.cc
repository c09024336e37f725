#include "transport/shell.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "common/time.h"
#include "transport/local_transport.h"

namespace rollgate {
namespace {

// Runs `sh -c 'printf %s "$1"' _ <quoted>` through a real shell: what the shell sees as the
// value of the quoted word must be exactly the original text.
std::string ThroughShell(const std::string& text) {
  SystemClock clock;
  LocalTransport local(clock);
  CommandSpec spec;
  spec.argv = {"sh", "-c", "eval \"set -- $1\"; printf %s \"$1\"", "_", ShellQuote(text)};
  spec.timeout = Seconds(10);
  auto result = local.Run({}, spec);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return "";
  EXPECT_EQ(result->exit_code, 0) << result->output_tail;
  return result->output_tail;
}

TEST(ShellQuoteTest, QuotesSimpleValues) {
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("abc"), "'abc'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuoteArgv({"echo", "a b", ""}), "'echo' 'a b' ''");
}

TEST(ShellQuoteTest, RoundTripsNastyStringsThroughRealShell) {
  const std::string nasty[] = {
      "",
      "plain",
      "a b  c",
      "'",
      "''",
      "'\\''",
      "\"",
      "$(id)",
      "`id`",
      "${HOME}",
      "$HOME",
      "a;b&&c||d|e",
      "x > /tmp/rollgate-pwned",
      "-oProxyCommand=touch /tmp/x",
      "new\nline",
      "tab\there",
      "back\\slash\\",
      "*?[a-z]{1,2}~",
      "#comment",
      "\xe2\x80\xae bidi",
      "trailing newline\n",
      "!history",
      "%s%n",
  };
  for (const std::string& text : nasty) {
    EXPECT_EQ(ThroughShell(text), text) << "value: " << text;
  }
}

TEST(ShellQuoteTest, ValidatesSpecs) {
  CommandSpec spec;
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.argv = {"true"};
  EXPECT_TRUE(ValidateCommandSpec(spec).ok());
  spec.argv = {"true", std::string("a\0b", 3)};
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.argv = {"true"};
  spec.env["BAD NAME"] = "x";
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.env.clear();
  spec.env["A=B"] = "x";
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.env.clear();
  spec.secret_env["TOKEN"] = "line1\nline2";
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  EXPECT_EQ(ValidateCommandSpec(spec).message().find("line1"), std::string::npos);
  spec.secret_env.clear();
  spec.status_file = "relative/path";
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.status_file = "/var/lib/rollgate/../../etc/passwd";
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.status_file = "/tmp/a b";
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.status_file = "/tmp/$(id)";
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  spec.status_file = "/var/lib/rollgate/runs/R-1/step-2.host1.status";
  EXPECT_TRUE(ValidateCommandSpec(spec).ok());
  spec.timeout = Seconds(0);
  EXPECT_FALSE(ValidateCommandSpec(spec).ok());
  EXPECT_FALSE(ValidateRemotePath("-oX").ok());
  EXPECT_FALSE(ValidateRemotePath("a\nb").ok());
  EXPECT_TRUE(ValidateRemotePath("/opt/demo/patch 1.tar.gz").ok());
}

TEST(ShellQuoteTest, WrapperRunsQuotedArgvWithSecretsFromStdin) {
  SystemClock clock;
  LocalTransport local(clock);
  CommandSpec inner;
  inner.argv = {"sh", "-c", "printf '%s|%s|%s|' \"$1\" \"$GREETING\" \"$TOKEN\"; cat", "_",
                "$(id) `id` ;'\""};
  inner.env["GREETING"] = "hello 'world'";
  inner.secret_env["TOKEN"] = "canary-7f3a";
  inner.stdin_data = "payload";
  std::string script = BuildRemoteScript(inner);
  EXPECT_EQ(script.find("canary-7f3a"), std::string::npos) << "a secret reached the script";

  CommandSpec outer;
  outer.argv = {"sh", "-c", script};
  outer.stdin_data = SecretPreamble(inner) + inner.stdin_data;
  outer.timeout = Seconds(10);
  auto result = local.Run({}, outer);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 0) << result->output_tail;
  EXPECT_EQ(result->output_tail, "$(id) `id` ;'\"|hello 'world'|canary-7f3a|payload");
}

TEST(ShellQuoteTest, WrapperWritesStatusFileAndKeepsOutput) {
  SystemClock clock;
  LocalTransport local(clock);
  std::string dir = testing::TempDir() + "/wrapper-status";
  std::filesystem::remove_all(dir);
  CommandSpec inner;
  inner.argv = {"sh", "-c", "echo out; echo err >&2; exit 7"};
  inner.status_file = dir + "/run-1/step-1.status";
  inner.output_limit = 1024;
  CommandSpec outer;
  outer.argv = {"sh", "-c", BuildRemoteScript(inner)};
  outer.timeout = Seconds(10);
  auto result = local.Run({}, outer);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 7);
  EXPECT_NE(result->output_tail.find("out"), std::string::npos);
  EXPECT_NE(result->output_tail.find("err"), std::string::npos);
  auto status = local.ReadExitStatus({}, inner.status_file);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_TRUE(status->has_value());
  EXPECT_EQ(**status, 7);
  EXPECT_TRUE(std::filesystem::exists(inner.status_file + ".pid"));
  EXPECT_TRUE(std::filesystem::exists(inner.status_file + ".out"));
}

// The output the wrapper keeps on the host never holds a secret, and the command's own exit
// status is kept although its output passes through the filter.
TEST(ShellQuoteTest, WrapperKeepsNoSecretInTheOutputFileOnTheHost) {
  SystemClock clock;
  LocalTransport local(clock);
  std::string dir = testing::TempDir() + "/wrapper-secret";
  std::filesystem::remove_all(dir);
  const std::string secret = "canary-wrapper-5d0c.*[x]\\&";
  CommandSpec inner;
  inner.argv = {"sh", "-c",
                "echo \"pw=$TOKEN\"; echo \"error: bad $TOKEN$TOKEN and $SHORT\" >&2; "
                "printf 'no newline %s' \"$TOKEN\"; exit 3"};
  inner.secret_env["TOKEN"] = secret;
  inner.secret_env["SHORT"] = "canary";  // a part of the longer one: longest masked first
  inner.status_file = dir + "/run-1/step-1.status";
  inner.output_limit = 1024;
  CommandSpec outer;
  outer.argv = {"sh", "-c", BuildRemoteScript(inner)};
  outer.stdin_data = SecretPreamble(inner);
  outer.timeout = Seconds(10);
  auto result = local.Run({}, outer);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->exit_code, 3) << result->output_tail;
  auto status = local.ReadExitStatus({}, inner.status_file);
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_EQ(**status, 3);
  std::ifstream in(inner.status_file + ".out");
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept.find("canary"), std::string::npos) << kept;
  EXPECT_NE(kept.find("pw=***\n"), std::string::npos) << kept;
  EXPECT_NE(kept.find("error: bad ****** and ***"), std::string::npos) << kept;
  EXPECT_NE(kept.find("no newline ***"), std::string::npos) << kept;
  EXPECT_EQ(result->output_tail.find("canary"), std::string::npos) << result->output_tail;
  EXPECT_FALSE(std::filesystem::exists(inner.status_file + ".rc"));
}

TEST(RedactTest, MasksEverySecretEvenAcrossTheCut) {
  EXPECT_EQ(Redact("pw=hunter2 again hunter2", {"hunter2"}), "pw=*** again ***");
  EXPECT_EQ(Redact("abc", {""}), "abc");
  EXPECT_EQ(Redact("tokentok", {"tok", "token"}), "******");

  const std::string secret = "SECRET-canary-0123456789";
  for (size_t limit = 1; limit < 60; ++limit) {
    OutputTail tail(limit, {secret});
    tail.Append("header ");
    tail.Append(secret);
    tail.Append(" trailer");
    bool truncated = false;
    std::string out = tail.Finish(&truncated);
    EXPECT_LE(out.size(), limit);
    // No fragment of 4+ characters of the secret survives.
    for (size_t i = 0; i + 4 <= secret.size(); ++i) {
      EXPECT_EQ(out.find(secret.substr(i, 4)), std::string::npos) << limit << ": " << out;
    }
  }
  OutputTail small(100, {});
  small.Append("short");
  bool truncated = true;
  EXPECT_EQ(small.Finish(&truncated), "short");
  EXPECT_FALSE(truncated);
}

}  // namespace
}  // namespace rollgate
