#include "config/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace rollgate {
namespace {

using std::chrono::hours;

TEST(ConfigValidateHostTest, AcceptsNamesAddressesUsersAndPorts) {
  for (const char* host :
       {"app1", "app1.example.com", "app1.example.com.", "a-b.c-d.example", "10.0.0.1",
        "127.0.0.2:2222", "deploy@app1.example.com", "deploy@10.0.0.1:22", "_svc@host", "::1",
        "fe80::1", "2001:db8::8a2e:370:7334", "[::1]:2222", "deploy@[2001:db8::1]:22",
        "xn--bcher-kva.example", "h:65535", "h:1"}) {
    EXPECT_TRUE(ValidateHost(host).ok()) << host << ": " << ValidateHost(host).message();
  }
  std::string longest_label(63, 'a');
  EXPECT_TRUE(ValidateHost(longest_label + ".example").ok());
}

TEST(ConfigValidateHostTest, RefusesHostileValues) {
  const std::string nul("a\0b", 3);
  for (const std::string& host : {std::string("-oProxyCommand=x"),
                                  std::string("a;b"),
                                  std::string("$(id)"),
                                  std::string("`id`"),
                                  std::string("a'b"),
                                  std::string("a\"b"),
                                  std::string("a b"),
                                  std::string("a\nb"),
                                  std::string("a\tb"),
                                  nul,
                                  std::string("host:0"),
                                  std::string("host:65536"),
                                  std::string("host:"),
                                  std::string("host:22x"),
                                  std::string(300, 'a'),
                                  std::string(64, 'a') + ".example",
                                  std::string("a..b"),
                                  std::string(".a"),
                                  std::string("-a.example"),
                                  std::string("a-.example"),
                                  std::string("user@-oProxyCommand=x"),
                                  std::string("Bad User@host"),
                                  std::string("a@b@c"),
                                  std::string("a|b"),
                                  std::string("a&b"),
                                  std::string("a>b"),
                                  std::string("a\\b"),
                                  std::string("999.1.1.1"),
                                  std::string("1.2.3"),
                                  std::string("[::1"),
                                  std::string("[nothex]:22"),
                                  std::string("::g"),
                                  std::string("h\xc3\xa9.example"),
                                  std::string(""),
                                  std::string("a/b"),
                                  std::string("a*b"),
                                  std::string("a,b")}) {
    Status status = ValidateHost(host);
    EXPECT_FALSE(status.ok()) << "accepted: " << host;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    // The message never carries raw control characters.
    for (char c : status.message()) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << status.message();
    }
  }
}

TEST(ConfigValidateHostTest, NamesTheReason) {
  EXPECT_EQ(ValidateHost("-oProxyCommand=x").message(),
            "invalid host '-oProxyCommand=x': must not start with '-' (expected "
            "[user@]host[:port] with an RFC 1123 name, an IPv4 address or an IPv6 address)");
  EXPECT_NE(ValidateHost("a;b").message().find("contains the character ';'"), std::string::npos);
  EXPECT_NE(ValidateHost("a\nb").message().find("'a\\nb': contains whitespace"), std::string::npos);
  EXPECT_NE(ValidateHost("h:0").message().find("port must be a number from 1 to 65535"),
            std::string::npos);
  EXPECT_NE(ValidateHost(std::string(260, 'a')).message().find("longer than 253"),
            std::string::npos);
}

TEST(ConfigValidateNamesTest, PersonNames) {
  EXPECT_TRUE(ValidatePersonName("alice").ok());
  EXPECT_TRUE(ValidatePersonName("j.smith-2").ok());
  for (const char* bad : {"", "Alice", "1alice", "al ice", "al;ice", "-alice", "ålice"}) {
    EXPECT_FALSE(ValidatePersonName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidatePersonName(std::string(65, 'a')).ok());
}

TEST(ConfigValidateNamesTest, UnixUsers) {
  EXPECT_TRUE(ValidateUnixUser("alice").ok());
  EXPECT_TRUE(ValidateUnixUser("_rollgate").ok());
  EXPECT_TRUE(ValidateUnixUser("svc-deploy2").ok());
  for (const char* bad : {"", "Alice", "-alice", "al.ice", "root$", "a b", "a\nb", "1user"}) {
    EXPECT_FALSE(ValidateUnixUser(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateUnixUser(std::string(33, 'a')).ok());
}

TEST(ConfigValidateNamesTest, Identifiers) {
  EXPECT_TRUE(ValidateIdentifier("PROD", "environment").ok());
  EXPECT_TRUE(ValidateIdentifier("it-operations-on-call", "contact").ok());
  EXPECT_EQ(ValidateIdentifier("a b", "environment").message(),
            "invalid environment name 'a b': use a letter or digit first, then letters, digits, "
            "'.', '_' or '-' (at most 64)");
  EXPECT_FALSE(ValidateIdentifier("-x", "system").ok());
  EXPECT_FALSE(ValidateIdentifier("", "system").ok());
}

TEST(ConfigValidateNamesTest, MetricNames) {
  EXPECT_TRUE(ValidateMetricName("http_requests_total").ok());
  EXPECT_TRUE(ValidateMetricName("job:http_errors:rate5m").ok());
  EXPECT_TRUE(ValidateMetricName("_x9").ok());
  EXPECT_FALSE(ValidateMetricName("").ok());
  EXPECT_FALSE(ValidateMetricName("5xx_total").ok());
  EXPECT_FALSE(ValidateMetricName("http-requests").ok());
  EXPECT_FALSE(ValidateMetricName("a b").ok());
  EXPECT_FALSE(ValidateMetricName("rate(x)").ok());
  EXPECT_FALSE(ValidateMetricName(std::string(201, 'a')).ok());
  EXPECT_THAT(ValidateMetricName("5xx").message(),
              ::testing::HasSubstr("invalid metric name '5xx'"));
}

TEST(ConfigParseLeadTimeTest, PlaybookForms) {
  EXPECT_EQ(*ParseLeadTime("same-day"), LeadTime::SameDay());
  EXPECT_EQ(*ParseLeadTime("same day"), LeadTime::SameDay());
  EXPECT_EQ(*ParseLeadTime("24h"), LeadTime::Hours(hours(24)));
  EXPECT_EQ(*ParseLeadTime("4h30m"), LeadTime::Hours(hours(4) + std::chrono::minutes(30)));
  EXPECT_EQ(*ParseLeadTime("5 business days"), LeadTime::BusinessDays(5));
  EXPECT_EQ(*ParseLeadTime("1 business day"), LeadTime::BusinessDays(1));
  EXPECT_EQ(*ParseLeadTime("5bd"), LeadTime::BusinessDays(5));
  EXPECT_EQ(*ParseLeadTime("5 BD"), LeadTime::BusinessDays(5));
}

TEST(ConfigParseLeadTimeTest, RefusesOtherText) {
  for (const char* bad : {"", "tomorrow", "0h", "0bd", "261bd", "-5bd", "5 days please", "5"}) {
    EXPECT_FALSE(ParseLeadTime(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseLeadTime("soon").error().message(),
            "invalid lead time 'soon': expected same-day, a duration such as 24h, or a number of "
            "business days such as '5 business days' or 5bd");
}

TEST(ConfigParseResponseTimeTest, ImmediateAndDurations) {
  EXPECT_EQ(*ParseResponseTime("immediate"), Seconds(0));
  EXPECT_EQ(*ParseResponseTime("Immediately"), Seconds(0));
  EXPECT_EQ(*ParseResponseTime("15m"), std::chrono::minutes(15));
  EXPECT_FALSE(ParseResponseTime("soon").ok());
}

TEST(ConfigParsePercentTest, ZeroToHundred) {
  EXPECT_DOUBLE_EQ(*ParsePercent("95"), 95.0);
  EXPECT_DOUBLE_EQ(*ParsePercent("99.5"), 99.5);
  EXPECT_DOUBLE_EQ(*ParsePercent("95%"), 95.0);
  EXPECT_DOUBLE_EQ(*ParsePercent("0"), 0.0);
  EXPECT_DOUBLE_EQ(*ParsePercent("100"), 100.0);
  for (const char* bad : {"", "-1", "100.5", "120", "nan", "inf", "1e2", "ninety", "%", "5..5"}) {
    EXPECT_FALSE(ParsePercent(bad).ok()) << bad;
  }
}

TEST(ConfigParseWeekdayTest, NamesAndAbbreviations) {
  EXPECT_EQ(*ParseWeekday("saturday"), std::chrono::Saturday);
  EXPECT_EQ(*ParseWeekday("Sun"), std::chrono::Sunday);
  EXPECT_EQ(*ParseWeekday("MONDAY"), std::chrono::Monday);
  EXPECT_EQ(ParseWeekday("saturdy").error().message(),
            "invalid weekday 'saturdy' (did you mean 'saturday'?)");
  EXPECT_EQ(ParseWeekday("xyzzy").error().message(),
            "invalid weekday 'xyzzy' (expected monday..sunday)");
}

TEST(ConfigValidateBatchTest, CountsAndPercentages) {
  EXPECT_TRUE(ValidateBatch("1").ok());
  EXPECT_TRUE(ValidateBatch("25%").ok());
  EXPECT_TRUE(ValidateBatch("100%").ok());
  for (const char* bad : {"0", "0%", "101%", "-1", "a", "", "%", "10001"}) {
    EXPECT_FALSE(ValidateBatch(bad).ok()) << bad;
  }
}

TEST(ConfigValidatePathTest, AbsoluteAndSafe) {
  EXPECT_TRUE(ValidateAbsolutePath("/opt/billing").ok());
  EXPECT_TRUE(ValidateAbsolutePath("/var/log/billing/application.log").ok());
  for (const char* bad : {"", "opt/billing", "/opt/../etc", "/opt/a b", "/opt/$(id)", "/opt/a;b",
                          "/opt/`x`", "/opt/a\nb"}) {
    EXPECT_FALSE(ValidateAbsolutePath(bad).ok()) << bad;
  }
}

TEST(ConfigValidateContactDetailsTest, EmailPhoneUrl) {
  EXPECT_TRUE(ValidateEmail("it-ops@example.com").ok());
  EXPECT_FALSE(ValidateEmail("not an email").ok());
  EXPECT_FALSE(ValidateEmail("a@b").ok());
  EXPECT_FALSE(ValidateEmail("a@@b.com").ok());
  EXPECT_TRUE(ValidatePhone("+1 (555) 010-1000").ok());
  EXPECT_FALSE(ValidatePhone("call me").ok());
  EXPECT_TRUE(ValidateHttpUrl("https://example.com/hook").ok());
  EXPECT_FALSE(ValidateHttpUrl("ftp://example.com").ok());
  EXPECT_FALSE(ValidateHttpUrl("https://example.com/a b").ok());
  EXPECT_TRUE(ValidateDependency("db.example.com:5432").ok());
  EXPECT_TRUE(ValidateDependency("https://auth.example.com/health").ok());
  EXPECT_FALSE(ValidateDependency("db.example.com").ok());
  EXPECT_FALSE(ValidateDependency("user@db.example.com:5432").ok());
  EXPECT_TRUE(ValidateTableName("invoices").ok());
  EXPECT_TRUE(ValidateTableName("public.invoices").ok());
  EXPECT_FALSE(ValidateTableName("invoices; drop table x").ok());
  EXPECT_FALSE(ValidateTableName("a.b.c").ok());
}

TEST(ConfigValidateSecretsTest, OnlyReferences) {
  EXPECT_TRUE(ValidateSecretReference("env:BILLING_DB_PASSWORD").ok());
  EXPECT_TRUE(ValidateSecretReference("file:/etc/rollgate/billing.pass").ok());
  for (const char* bad : {"hunter2", "env:", "env:1X", "env:A-B", "file:relative", "file:"}) {
    Status status = ValidateSecretReference(bad);
    EXPECT_FALSE(status.ok()) << bad;
    if (std::string(bad).size() > 5) {
      EXPECT_EQ(status.message().find(bad), std::string::npos) << status.message();
    }
  }
  EXPECT_NE(ValidateSecretReference("hunter2").message().find("env:NAME"), std::string::npos);
}

TEST(ConfigValidateSecretsTest, DatabaseUrlWithoutPassword) {
  EXPECT_TRUE(ValidateDatabaseUrl("postgresql://billing@db:5432/billing").ok());
  EXPECT_TRUE(ValidateDatabaseUrl("postgres://db/billing?sslmode=require").ok());
  Status with_password = ValidateDatabaseUrl("postgresql://billing:s3cret@db/billing");
  EXPECT_FALSE(with_password.ok());
  EXPECT_EQ(with_password.message().find("s3cret"), std::string::npos);
  EXPECT_FALSE(ValidateDatabaseUrl("postgresql://db/billing?password=s3cret").ok());
  EXPECT_FALSE(ValidateDatabaseUrl("mysql://db/billing").ok());
}

TEST(ConfigDisplayValueTest, EscapesAndShortens) {
  EXPECT_EQ(DisplayValue("a\nb"), "a\\nb");
  EXPECT_EQ(DisplayValue(std::string(100, 'x')), std::string(80, 'x') + "...");
  // A two-byte character straddling the cut is not split.
  std::string value = std::string(79, 'x') + "\xc3\xa9" + "tail";
  EXPECT_EQ(DisplayValue(value), std::string(79, 'x') + "...");
}

}  // namespace
}  // namespace rollgate
