#include "domain/cvss31.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "domain/cvss.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;

struct Known {
  const char* what;
  const char* vector;
  double base;
};

// The worked examples of FIRST's "CVSS v3.1 Examples" document, base scores as published there.
const Known kFirstExamples[] = {
    {"CVE-2013-1937 phpMyAdmin reflected XSS", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
    {"CVE-2013-0375 MySQL stored SQL injection", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
     6.4},
    {"CVE-2014-3566 SSLv3 POODLE", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1},
    {"CVE-2012-1516 VMware guest to host escape", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
     9.9},
    {"CVE-2009-0783 Apache Tomcat XML parser", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2},
    {"CVE-2012-0384 Cisco IOS command injection", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
     8.8},
    {"CVE-2015-1098 Apple iWork denial of service", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
     7.8},
    {"CVE-2014-0160 Heartbleed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},
    {"CVE-2014-6271 Shellshock", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
    {"CVE-2008-1447 DNS cache poisoning", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8},
    {"CVE-2014-2005 Sophos login screen bypass", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     6.8},
    {"CVE-2010-0467 Joomla directory traversal", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N",
     5.8},
    {"CVE-2012-1342 Cisco ASA ACL bypass", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8},
    {"CVE-2013-6014 Juniper proxy ARP denial of service",
     "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H", 9.3},
    {"CVE-2014-9253 DokuWiki stored XSS", "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4},
    {"CVE-2011-1265 Windows Bluetooth stack RCE", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     8.8},
    {"CVE-2014-2019 Apple iOS security control bypass",
     "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 4.6},
    {"CVE-2015-0970 SearchBlox CSRF", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8},
    {"CVE-2014-0224 OpenSSL CCS injection", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4},
    {"CVE-2012-5376 Chrome IPC sandbox escape", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H",
     9.6},
    {"CVE-2016-1645 Chrome PDFium JPEG 2000", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8},
    {"CVE-2016-0128 Badlock SAM/LSAD downgrade", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N",
     6.8},
    {"CVE-2016-5729 Lenovo BIOS privilege escalation",
     "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 8.2},
    {"CVE-2015-2890 Seagate hard drive password bypass",
     "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 4.6},
};

// Vectors with scores published by NVD, and corners of the base metric space whose scores were
// cross-checked against an independent implementation of the 3.1 equations.
const Known kMoreVectors[] = {
    {"CVE-2021-44228 Log4Shell", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
    {"CVE-2020-1472 Zerologon", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
    {"CVE-2019-0708 BlueKeep", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
    {"CVE-2017-0144 EternalBlue", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1},
    {"CVE-2017-5753 Spectre v1", "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:N/A:N", 5.6},
    {"CVE-2016-5195 Dirty COW", "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.0},
    {"CVE-2021-34527 PrintNightmare", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8},
    {"CVE-2021-3156 sudo Baron Samedit", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
    {"CVE-2014-3566 POODLE as scored by NVD", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:N/A:N", 3.4},
    {"CVE-2022-22965 Spring4Shell", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
    {"CVE-2023-4863 libwebp heap overflow", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8},
    {"no impact at all", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
    {"no impact, scope changed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N", 0.0},
    {"weakest possible", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6},
    {"physical, high privileges, all high", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:H", 6.0},
    {"adjacent, low impact", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 4.3},
    {"local, availability only", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5},
    {"network, low privileges, scope changed, low integrity",
     "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:N/I:L/A:N", 5.0},
    {"network DoS", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5},
    {"local, user interaction, confidentiality only",
     "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N", 5.5},
    {"physical, scope changed, all high", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 7.6},
};

class Cvss31KnownScoreTest : public ::testing::TestWithParam<Known> {};

TEST_P(Cvss31KnownScoreTest, ScoresAsPublished) {
  const Known& known = GetParam();
  Result<Cvss31Scores> scores = ScoreCvss31(known.vector);
  ASSERT_TRUE(scores.ok()) << known.what << ": " << scores.status().ToString();
  EXPECT_DOUBLE_EQ(scores->base_score, known.base) << known.what << " " << known.vector;
  EXPECT_FALSE(scores->temporal_score.has_value());
  EXPECT_FALSE(scores->environmental_score.has_value());
}

INSTANTIATE_TEST_SUITE_P(FirstExamples, Cvss31KnownScoreTest, ::testing::ValuesIn(kFirstExamples));
INSTANTIATE_TEST_SUITE_P(MoreVectors, Cvss31KnownScoreTest, ::testing::ValuesIn(kMoreVectors));

TEST(Cvss31Test, AcceptsAnyMetricOrderAndNormalises) {
  Result<Cvss31Scores> scores = ScoreCvss31("CVSS:3.1/A:N/I:N/C:H/S:U/UI:N/PR:N/AC:L/AV:N");
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_DOUBLE_EQ(scores->base_score, 7.5);
  EXPECT_EQ(scores->vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
}

TEST(Cvss31Test, NormalisedVectorDropsNotDefinedMetrics) {
  Result<Cvss31Scores> scores =
      ScoreCvss31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:X/RL:X/RC:X/MAV:X");
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_EQ(scores->vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
  EXPECT_FALSE(scores->temporal_score.has_value());
  EXPECT_FALSE(scores->environmental_score.has_value());
}

TEST(Cvss31Test, TemporalScore) {
  // Base 9.8; 9.8 * 0.94 (E:P) * 0.95 (RL:O) * 0.96 (RC:R) = 8.401... -> Roundup 8.5.
  Result<Cvss31Scores> scores =
      ScoreCvss31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:R");
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_DOUBLE_EQ(scores->base_score, 9.8);
  ASSERT_TRUE(scores->temporal_score.has_value());
  EXPECT_DOUBLE_EQ(*scores->temporal_score, 8.5);
  EXPECT_FALSE(scores->environmental_score.has_value());

  // Heartbleed with a functional exploit and an official fix: 7.5 * 0.97 * 0.95 = 6.91 -> 7.0.
  scores = ScoreCvss31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:F/RL:O/RC:C");
  ASSERT_TRUE(scores.ok());
  EXPECT_DOUBLE_EQ(*scores->temporal_score, 7.0);
}

TEST(Cvss31Test, EnvironmentalScore) {
  // Values cross-checked with an independent implementation of the 3.1 equations.
  struct Case {
    const char* vector;
    double base, temporal, environmental;
  };
  const Case cases[] = {
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N/E:P/MAV:L/CR:H", 6.1, 5.8, 5.4},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U/CR:L/IR:L/AR:L/MAV:P/MAC:H/"
       "MPR:H/MUI:R/MS:U/MC:L/MI:L/MA:L",
       9.8, 7.8, 1.7},
  };
  for (const Case& c : cases) {
    Result<Cvss31Scores> scores = ScoreCvss31(c.vector);
    ASSERT_TRUE(scores.ok()) << scores.status().ToString();
    EXPECT_DOUBLE_EQ(scores->base_score, c.base) << c.vector;
    ASSERT_TRUE(scores->temporal_score.has_value());
    EXPECT_DOUBLE_EQ(*scores->temporal_score, c.temporal) << c.vector;
    ASSERT_TRUE(scores->environmental_score.has_value());
    EXPECT_DOUBLE_EQ(*scores->environmental_score, c.environmental) << c.vector;
  }
  // Environmental metrics alone: base stays the base score, no temporal score.
  Result<Cvss31Scores> scores =
      ScoreCvss31("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:L/MPR:L/CR:H/IR:H/AR:H");
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_DOUBLE_EQ(scores->base_score, 9.8);
  EXPECT_FALSE(scores->temporal_score.has_value());
  ASSERT_TRUE(scores->environmental_score.has_value());
  EXPECT_DOUBLE_EQ(*scores->environmental_score, 7.8);
}

TEST(Cvss31RoundupTest, FollowsAppendixA) {
  EXPECT_DOUBLE_EQ(Cvss31Roundup(0.0), 0.0);
  EXPECT_DOUBLE_EQ(Cvss31Roundup(4.0), 4.0);
  EXPECT_DOUBLE_EQ(Cvss31Roundup(4.02), 4.1);  // the specification's own example
  EXPECT_DOUBLE_EQ(Cvss31Roundup(4.00001), 4.1);
  EXPECT_DOUBLE_EQ(Cvss31Roundup(9.99), 10.0);
  EXPECT_DOUBLE_EQ(Cvss31Roundup(10.0), 10.0);
  EXPECT_DOUBLE_EQ(Cvss31Roundup(2.16), 2.2);
  EXPECT_DOUBLE_EQ(Cvss31Roundup(7.49), 7.5);
}

TEST(Cvss31RoundupTest, IgnoresFloatingPointNoiseBelowOneHundredThousandth) {
  // A naive ceil(x * 10) / 10 turns these artefacts of exact tenths into the next tenth.
  EXPECT_DOUBLE_EQ(Cvss31Roundup(4.000000000000001), 4.0);
  EXPECT_DOUBLE_EQ(Cvss31Roundup(0.1 + 0.2), 0.3);  // 0.30000000000000004
  EXPECT_DOUBLE_EQ(Cvss31Roundup(6.000004), 6.0);   // rounds to 600000 hundred-thousandths
  EXPECT_DOUBLE_EQ(Cvss31Roundup(1.1 * 3.0), 3.3);  // 3.3000000000000003
}

struct Bad {
  const char* what;
  const char* vector;
  const char* message;  // a substring the refusal must contain
};

const Bad kBadVectors[] = {
    {"empty", "", "CVSS vector is empty"},
    {"3.0 prefix", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "CVSS 3.0 vectors are not supported"},
    {"no prefix", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "does not start with 'CVSS:3.1/'"},
    {"lower-case prefix", "cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "in upper case"},
    {"lower-case metric", "CVSS:3.1/av:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "unknown metric 'av' in CVSS 3.1 vector: metric names are upper case ('AV')"},
    {"lower-case value", "CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "invalid value 'n' for metric AV (Attack Vector): allowed values are N, A, L, P (values are "
     "case-sensitive: 'N')"},
    {"unknown metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:H",
     "unknown metric 'ZZ' in CVSS 3.1 vector"},
    {"typo in metric", "CVSS:3.1/AV:N/AC:L/PRR:N/UI:N/S:U/C:H/I:H/A:H", "did you mean PR?"},
    {"duplicate", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:L",
     "duplicate metric AV (Attack Vector) in CVSS 3.1 vector"},
    {"missing one", "CVSS:3.1/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "CVSS 3.1 vector is missing metric AV (Attack Vector)"},
    {"missing several", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H",
     "CVSS 3.1 vector is missing metric S (Scope)"},
    {"missing two", "CVSS:3.1/AV:N/AC:L/UI:N/S:U/C:H/I:H",
     "missing metrics PR (Privileges Required), A (Availability)"},
    {"invalid value", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "invalid value 'Q' for metric AV (Attack Vector): allowed values are N, A, L, P"},
    {"X for a base metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:X/C:H/I:H/A:H",
     "invalid value 'X' for metric S (Scope): allowed values are U, C"},
    {"invalid temporal value", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:Z",
     "invalid value 'Z' for metric E (Exploit Code Maturity): allowed values are X, H, F, P, U"},
    {"empty component", "CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "empty component 2"},
    {"trailing slash", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "trailing '/'"},
    {"prefix only", "CVSS:3.1/", "no metrics after 'CVSS:3.1/'"},
    {"component without colon", "CVSS:3.1/AV:N/ACL/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "malformed component 'ACL': expected METRIC:VALUE"},
    {"component with empty value", "CVSS:3.1/AV:/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "malformed component 'AV:'"},
    {"component with two colons", "CVSS:3.1/AV:N:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "malformed component 'AV:N:L'"},
    {"multi-letter value", "CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "invalid value 'NN' for metric AV"},
    {"space inside", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H ",
     "contains whitespace at position 45"},
    {"newline", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\nX", "whitespace at position 45"},
    {"control character", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:\x01",
     "a control character at position 44"},
    {"non-ASCII", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:\xc3\xa9",
     "a non-ASCII character at position 44"},
};

class Cvss31BadVectorTest : public ::testing::TestWithParam<Bad> {};

TEST_P(Cvss31BadVectorTest, IsRefusedNamingTheProblem) {
  const Bad& bad = GetParam();
  Result<Cvss31Scores> scores = ScoreCvss31(bad.vector);
  ASSERT_FALSE(scores.ok()) << bad.what;
  EXPECT_EQ(scores.error().code(), StatusCode::kInvalidArgument) << bad.what;
  EXPECT_THAT(scores.error().message(), HasSubstr(bad.message)) << bad.what;
}

INSTANTIATE_TEST_SUITE_P(AllClasses, Cvss31BadVectorTest, ::testing::ValuesIn(kBadVectors));

TEST(Cvss31Test, RefusesOverlongVector) {
  std::string vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
  while (vector.size() <= 512) vector += "/E:X";
  Result<Cvss31Scores> scores = ScoreCvss31(vector);
  ASSERT_FALSE(scores.ok());
  EXPECT_THAT(scores.error().message(), HasSubstr("too long"));
  EXPECT_THAT(scores.error().message(), HasSubstr("at most 512"));
}

TEST(Cvss31Test, EchoesNoRawControlCharacters) {
  Result<Cvss31Scores> scores = ScoreCvss31("CVSS:3.1/AV:N\r\nFAKE LOG LINE");
  ASSERT_FALSE(scores.ok());
  EXPECT_EQ(scores.error().message().find('\n'), std::string::npos);
  EXPECT_EQ(scores.error().message().find('\r'), std::string::npos);
}

// The front door (domain/cvss.h) is tested here with 3.1 vectors and in cvss40_test.cc with 4.0.

TEST(CvssFrontDoorTest, ScoresA31VectorWithSeverity) {
  Result<CvssScore> score = ScoreCvssVector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:X");
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_EQ(score->version, "3.1");
  EXPECT_EQ(score->vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
  EXPECT_DOUBLE_EQ(score->base_score, 7.5);
  EXPECT_EQ(score->severity, "High");
}

TEST(CvssFrontDoorTest, BaseScoreStaysTheBaseScoreWithTemporalMetrics) {
  Result<CvssScore> score =
      ScoreCvssVector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:U");
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_DOUBLE_EQ(score->base_score, 9.8);
  EXPECT_EQ(score->severity, "Critical");
}

TEST(CvssFrontDoorTest, RefusesUnsupportedOrMissingPrefixes) {
  const Bad cases[] = {
      {"empty", "", "CVSS vector is empty"},
      {"3.0", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS 3.0 vectors are not supported"},
      {"2.0 with prefix", "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
       "unsupported CVSS version prefix 'CVSS:2.0'"},
      {"2.0 without prefix", "AV:N/AC:L/Au:N/C:P/I:P/A:P", "has no version prefix"},
      {"3.1 without prefix", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "has no version prefix"},
      {"lower case", "cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
       "must start with 'CVSS:3.1/' in upper case"},
      {"version only", "CVSS:3.1", "has no metrics"},
      {"garbage", "hello", "must start with 'CVSS:3.1/' or 'CVSS:4.0/'"},
      {"3.1 parse error surfaces", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
       "missing metric A (Availability)"},
  };
  for (const Bad& bad : cases) {
    Result<CvssScore> score = ScoreCvssVector(bad.vector);
    ASSERT_FALSE(score.ok()) << bad.what;
    EXPECT_EQ(score.error().code(), StatusCode::kInvalidArgument) << bad.what;
    EXPECT_THAT(score.error().message(), HasSubstr(bad.message)) << bad.what;
  }
  Result<CvssScore> overlong = ScoreCvssVector(std::string(600, 'A'));
  ASSERT_FALSE(overlong.ok());
  EXPECT_THAT(overlong.error().message(), HasSubstr("too long (600 characters, at most 512)"));
}

TEST(CvssSeverityTest, RatingBoundaries) {
  EXPECT_EQ(CvssSeverity(0.0), "None");
  EXPECT_EQ(CvssSeverity(0.1), "Low");
  EXPECT_EQ(CvssSeverity(3.9), "Low");
  EXPECT_EQ(CvssSeverity(4.0), "Medium");
  EXPECT_EQ(CvssSeverity(6.9), "Medium");
  EXPECT_EQ(CvssSeverity(7.0), "High");
  EXPECT_EQ(CvssSeverity(8.9), "High");
  EXPECT_EQ(CvssSeverity(9.0), "Critical");
  EXPECT_EQ(CvssSeverity(10.0), "Critical");
  EXPECT_EQ(CvssSeverity(0.1 + 0.2 + 3.6), "Low");  // 3.9000000000000004 is 3.9
  EXPECT_EQ(CvssSeverity(-1.0), "None");
  EXPECT_EQ(CvssSeverity(std::numeric_limits<double>::quiet_NaN()), "None");
  EXPECT_EQ(CvssSeverity(12.0), "Critical");
}

TEST(CvssClaimedScoreTest, AcceptsTheComputedScoreWithinFiveHundredths) {
  const CvssScore computed{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "High"};
  EXPECT_TRUE(CheckClaimedScore(computed, 7.5).ok());
  EXPECT_TRUE(CheckClaimedScore(computed, 7.54).ok());
  EXPECT_TRUE(CheckClaimedScore(computed, 7.45).ok());
  EXPECT_TRUE(CheckClaimedScore(computed, 7.55).ok());
  EXPECT_FALSE(CheckClaimedScore(computed, 7.56).ok());
  EXPECT_FALSE(CheckClaimedScore(computed, 7.4).ok());
}

TEST(CvssClaimedScoreTest, RefusesAContradictingScore) {
  const CvssScore computed{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "High"};
  Status status = CheckClaimedScore(computed, 9.1);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "score 9.1 does not match the vector (computed 7.5)");
  EXPECT_EQ(CheckClaimedScore(computed, 10.0).message(),
            "score 10.0 does not match the vector (computed 7.5)");
  EXPECT_EQ(CheckClaimedScore(computed, 7.625).message(),
            "score 7.625 does not match the vector (computed 7.5)");
}

TEST(CvssClaimedScoreTest, RefusesAClaimThatIsNoScore) {
  const CvssScore computed{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "None"};
  for (double claimed : {-0.5, 10.5, std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity()}) {
    Status status = CheckClaimedScore(computed, claimed);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << claimed;
    EXPECT_THAT(status.message(), HasSubstr("is not a CVSS score")) << claimed;
  }
}

}  // namespace
}  // namespace rollgate
