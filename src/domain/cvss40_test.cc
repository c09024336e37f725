#include "domain/cvss40.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "domain/cvss.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;

struct Known {
  const char* vector;
  double score;
};

// Vectors and scores from the test data of the reference implementation's companion library
// (RedHatProductSecurity/cvss tests/vectors_simple4, vectors_threat4, vectors_security4): base
// (CVSS-B), threat (CVSS-BT) and security requirement (CVSS-BE) vectors.
const Known kReferenceVectors[] = {
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L", 9.2},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L", 7.8},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:L/SA:N", 6.9},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H", 7.9},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:N/VA:L/SC:N/SI:H/SA:N", 8.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:N/VA:N/SC:L/SI:N/SA:L", 5.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.6},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:N/SC:N/SI:L/SA:L", 8.5},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 5.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:L/SC:N/SI:L/SA:N", 7.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:H", 6.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:H/VI:L/VA:L/SC:L/SI:L/SA:L", 7.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:H/SC:H/SI:N/SA:H", 9.3},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:N/VI:L/VA:L/SC:L/SI:L/SA:H", 6.2},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:L/SC:L/SI:L/SA:N", 5.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:P/VC:L/VI:L/VA:N/SC:L/SI:N/SA:N", 4.8},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:A/VC:L/VI:N/VA:N/SC:H/SI:N/SA:H", 6.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H", 6.2},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:N/SA:H", 9.5},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:N/VA:N/SC:L/SI:L/SA:H", 9.0},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:L/VA:L/SC:H/SI:L/SA:L", 7.0},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:L/VI:L/VA:N/SC:H/SI:N/SA:N", 4.9},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:N", 8.8},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:H", 4.6},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N", 2.1},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:N/VI:N/VA:N/SC:N/SI:L/SA:N", 2.3},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:P/VC:N/VI:N/VA:N/SC:H/SI:L/SA:L", 5.1},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:H/VI:H/VA:L/SC:L/SI:L/SA:L", 7.3},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:N/VC:N/VI:L/VA:N/SC:L/SI:N/SA:N", 2.1},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:P/VC:H/VI:L/VA:L/SC:L/SI:N/SA:L", 5.8},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N", 1.8},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:N/SC:N/SI:H/SA:L", 6.8},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:L/SI:H/SA:L", 9.4},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:L/SI:L/SA:H", 7.0},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 2.1},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:N/VC:H/VI:N/VA:L/SC:L/SI:L/SA:L", 6.0},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:P/VC:H/VI:H/VA:H/SC:H/SI:L/SA:H", 8.8},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:L/VI:L/VA:L/SC:H/SI:H/SA:H", 5.2},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:N/VC:N/VI:N/VA:N/SC:L/SI:H/SA:N", 4.8},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:P/VC:L/VI:N/VA:L/SC:N/SI:N/SA:H", 4.3},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N", 4.0},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:L", 9.1},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:L/VI:L/VA:H/SC:L/SI:N/SA:N", 8.3},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:N/VI:L/VA:N/SC:L/SI:H/SA:L", 7.0},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:H/VA:H/SC:N/SI:H/SA:N", 6.8},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A", 7.3},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P", 5.9},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U", 4.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/E:U", 0.0},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:H/IR:H/AR:M", 7.2},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:H/IR:M/AR:L", 7.1},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:M/IR:M/AR:M", 5.5},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:L/IR:H/AR:M", 7.1},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:L/IR:L/AR:L", 5.4},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L", 0.0},
};

class Cvss40ReferenceTest : public ::testing::TestWithParam<Known> {};

TEST_P(Cvss40ReferenceTest, ScoresAsTheReference) {
  const Known& known = GetParam();
  Result<Cvss40Scores> scores = ScoreCvss40(known.vector);
  ASSERT_TRUE(scores.ok()) << known.vector << ": " << scores.status().ToString();
  EXPECT_DOUBLE_EQ(scores->score, known.score) << known.vector;
  EXPECT_EQ(scores->vector, known.vector);  // already normalised
}

INSTANTIATE_TEST_SUITE_P(ReferenceData, Cvss40ReferenceTest,
                         ::testing::ValuesIn(kReferenceVectors));

// Scores that land on a tie (x.x5) in exact arithmetic but one ulp below it in floating point. The
// reference calculator rounds them up since its fix for RedHatProductSecurity/cvss-v4-calculator
// issue #66 (and cvss issues #60, #63); each case below is taken from those reports.
const Known kTies[] = {
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H", 8.6},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/E:U", 0.4},
    {"CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H/E:P", 9.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:P/CR:L/IR:L/AR:L/MAV:N/"
     "MAC:L/MAT:N/MPR:L/MUI:A/MVC:H/MVI:H/MVA:H/MSC:H/MSI:S/MSA:S/S:P/AU:Y/R:I/V:C/RE:H/U:Red",
     8.5},
    {"CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:N/SA:H/E:A/CR:H/IR:M/AR:H/MAV:A/"
     "MAC:L/MAT:N/MPR:N/MUI:N/MVC:H/MVI:N/MVA:H/MSC:H/MSI:H/MSA:H/S:N/AU:N/R:I/V:C/RE:M/U:Green",
     8.6},
    {"CVSS:4.0/AV:N/AC:H/AT:N/PR:N/UI:P/VC:H/VI:L/VA:H/SC:H/SI:N/SA:N/E:U/CR:H/IR:M/AR:M/MAV:P/"
     "MAC:L/MAT:P/MPR:H/MUI:A/MVC:N/MVI:L/MVA:L/MSC:N/MSI:H/MSA:S/S:N/AU:Y/R:A/V:C/RE:H/U:Amber",
     1.0},
    {"CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:H/VI:L/VA:L/SC:L/SI:L/SA:N/E:U/MSC:N", 1.8},
};

INSTANTIATE_TEST_SUITE_P(Ties, Cvss40ReferenceTest, ::testing::ValuesIn(kTies));

// Environmental (CVSS-BE, CVSS-BTE) vectors with modified metrics, and the corners of the scale;
// scores cross-checked against an independent implementation of the current reference.
const Known kEnvironmental[] = {
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A", 8.7},
    {"CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N", 6.1},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:P/VC:N/VI:L/VA:H/SC:N/SI:L/SA:N/E:U/CR:H/IR:H/AR:H/MAV:L/"
     "MAC:H/MAT:P/MPR:L/MUI:P/MVC:L/MVI:L/MVA:L/MSC:L/MSI:L/MSA:S/S:N/AU:N/R:U/V:D/RE:L/U:Clear",
     1.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L", 8.9},
    {"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSI:S", 9.7},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 8.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3},
    {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N/E:U", 0.1},
    {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0},
};

INSTANTIATE_TEST_SUITE_P(Environmental, Cvss40ReferenceTest, ::testing::ValuesIn(kEnvironmental));

TEST(Cvss40Test, ModifiedMetricsCanRemoveAllImpact) {
  Result<Cvss40Scores> scores = ScoreCvss40(
      "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/MVC:N/MVI:N/MVA:N/MSC:N/"
      "MSI:N/MSA:N");
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_DOUBLE_EQ(scores->score, 0.0);
}

TEST(Cvss40Test, NomenclatureAndMacroVector) {
  struct Case {
    const char* vector;
    const char* nomenclature;
    const char* macro_vector;
  };
  const Case cases[] = {
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS-B", "000200"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P", "CVSS-BT", "000210"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L", "CVSS-BE",
       "000201"},
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/MSI:S", "CVSS-BTE",
       "000020"},
      // Not Defined (X) threat and environmental values, and supplemental metrics, leave CVSS-B.
      {"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:X/S:P/U:Red",
       "CVSS-B", "000200"},
      {"CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:L/VA:L/SC:L/SI:L/SA:L/E:U", "CVSS-BT", "212221"},
  };
  for (const Case& c : cases) {
    Result<Cvss40Scores> scores = ScoreCvss40(c.vector);
    ASSERT_TRUE(scores.ok()) << c.vector << ": " << scores.status().ToString();
    EXPECT_EQ(scores->nomenclature, c.nomenclature) << c.vector;
    EXPECT_EQ(scores->macro_vector, c.macro_vector) << c.vector;
  }
}

TEST(Cvss40Test, SupplementalMetricsDoNotChangeTheScore) {
  Result<Cvss40Scores> plain =
      ScoreCvss40("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
  Result<Cvss40Scores> supplemented = ScoreCvss40(
      "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:P/AU:Y/R:I/V:C/RE:H/"
      "U:Amber");
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(supplemented.ok()) << supplemented.status().ToString();
  EXPECT_DOUBLE_EQ(plain->score, supplemented->score);
}

TEST(Cvss40Test, NormalisedVectorDropsNotDefinedMetrics) {
  Result<Cvss40Scores> scores = ScoreCvss40(
      "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:X/IR:H/MAV:X/U:X");
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_EQ(scores->vector, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/IR:H");
}

TEST(Cvss40Test, MacroVectorTable) {
  EXPECT_EQ(Cvss40MacroVectorScore("000000"), 10.0);
  EXPECT_EQ(Cvss40MacroVectorScore("002201"), 6.9);
  EXPECT_EQ(Cvss40MacroVectorScore("111220"), 2.4);
  EXPECT_EQ(Cvss40MacroVectorScore("212221"), 0.1);
  EXPECT_EQ(Cvss40MacroVectorScore("002200"), std::nullopt);  // EQ3 2 with EQ6 0 cannot occur
  EXPECT_EQ(Cvss40MacroVectorScore("300000"), std::nullopt);
  EXPECT_EQ(Cvss40MacroVectorScore("00000"), std::nullopt);
  // Every macro vector that EQ1..EQ6 can produce has a score, and only those.
  int count = 0;
  for (int eq1 = 0; eq1 < 3; ++eq1) {
    for (int eq2 = 0; eq2 < 2; ++eq2) {
      for (int eq3 = 0; eq3 < 3; ++eq3) {
        for (int eq4 = 0; eq4 < 3; ++eq4) {
          for (int eq5 = 0; eq5 < 3; ++eq5) {
            for (int eq6 = 0; eq6 < 2; ++eq6) {
              std::string macro = {static_cast<char>('0' + eq1), static_cast<char>('0' + eq2),
                                   static_cast<char>('0' + eq3), static_cast<char>('0' + eq4),
                                   static_cast<char>('0' + eq5), static_cast<char>('0' + eq6)};
              std::optional<double> score = Cvss40MacroVectorScore(macro);
              EXPECT_EQ(score.has_value(), !(eq3 == 2 && eq6 == 0)) << macro;
              if (score) {
                ++count;
                EXPECT_GT(*score, 0.0) << macro;
                EXPECT_LE(*score, 10.0) << macro;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(count, 270);
}

struct Bad {
  const char* what;
  const char* vector;
  const char* message;
};

constexpr const char* kBase = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";

const Bad kBadVectors[] = {
    {"empty", "", "CVSS vector is empty"},
    {"3.1 prefix", "CVSS:3.1/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "does not start with 'CVSS:4.0/'"},
    {"no prefix", "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "does not start with 'CVSS:4.0/'"},
    {"lower-case prefix", "cvss:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "in upper case"},
    {"lower-case metric", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/vc:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "unknown metric 'vc' in CVSS 4.0 vector: metric names are upper case ('VC')"},
    {"lower-case supplemental value",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red",
     "invalid value 'red' for metric U (Provider Urgency): allowed values are X, Clear, Green, "
     "Amber, Red (values are case-sensitive: 'Red')"},
    {"unknown metric", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/QQ:N",
     "unknown metric 'QQ' in CVSS 4.0 vector"},
    {"3.1 metric in a 4.0 vector",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/S:U/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "invalid value 'U' for metric S (Safety): allowed values are X, N, P"},
    {"duplicate", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/SA:N",
     "duplicate metric SA (Subsequent System Availability Impact) in CVSS 4.0 vector"},
    {"duplicate modified",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MAV:L/MAV:N",
     "duplicate metric MAV (Modified Attack Vector)"},
    {"missing AT", "CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "CVSS 4.0 vector is missing metric AT (Attack Requirements)"},
    {"missing subsequent system", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H",
     "missing metrics SC (Subsequent System Confidentiality Impact), SI (Subsequent System "
     "Integrity Impact), SA (Subsequent System Availability Impact)"},
    {"invalid value", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "invalid value 'R' for metric UI (User Interaction): allowed values are N, P, A"},
    {"S only for modified subsequent metrics",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N",
     "invalid value 'S' for metric SI (Subsequent System Integrity Impact): allowed values are H, "
     "L, N"},
    {"MSC cannot be S", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSC:S",
     "invalid value 'S' for metric MSC"},
    {"invalid threat value", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:F",
     "invalid value 'F' for metric E (Exploit Maturity): allowed values are X, A, P, U"},
    {"base out of order", "CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "metric AV (Attack Vector) is out of order in CVSS 4.0 vector: the specification requires it "
     "before AC"},
    {"threat after environmental",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:H/E:A",
     "metric E (Exploit Maturity) is out of order"},
    {"supplemental before environmental",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:N/MAV:L",
     "metric MAV (Modified Attack Vector) is out of order"},
    {"empty component", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N//VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "empty component 6"},
    {"trailing slash", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/",
     "trailing '/'"},
    {"prefix only", "CVSS:4.0/", "no metrics after 'CVSS:4.0/'"},
    {"no colon", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SAN",
     "malformed component 'SAN': expected METRIC:VALUE"},
    {"tab", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\t",
     "contains whitespace at position 64"},
    {"bidirectional override",
     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:\xe2\x80\xae",
     "a non-ASCII character at position 63"},
};

class Cvss40BadVectorTest : public ::testing::TestWithParam<Bad> {};

TEST_P(Cvss40BadVectorTest, IsRefusedNamingTheProblem) {
  const Bad& bad = GetParam();
  Result<Cvss40Scores> scores = ScoreCvss40(bad.vector);
  ASSERT_FALSE(scores.ok()) << bad.what;
  EXPECT_EQ(scores.error().code(), StatusCode::kInvalidArgument) << bad.what;
  EXPECT_THAT(scores.error().message(), HasSubstr(bad.message)) << bad.what;
}

INSTANTIATE_TEST_SUITE_P(AllClasses, Cvss40BadVectorTest, ::testing::ValuesIn(kBadVectors));

TEST(Cvss40Test, RefusesOverlongVector) {
  std::string vector = kBase;
  vector += "/U:";
  vector += std::string(600, 'A');
  Result<Cvss40Scores> scores = ScoreCvss40(vector);
  ASSERT_FALSE(scores.ok());
  EXPECT_THAT(scores.error().message(), HasSubstr("too long (666 characters, at most 512)"));
}

TEST(CvssFrontDoorTest, ScoresA40Vector) {
  Result<CvssScore> score =
      ScoreCvssVector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/S:X");
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_EQ(score->version, "4.0");
  EXPECT_EQ(score->vector, kBase);
  EXPECT_DOUBLE_EQ(score->base_score, 9.3);
  EXPECT_EQ(score->severity, "Critical");
}

TEST(CvssFrontDoorTest, A40ScoreIncludesThreatAndEnvironmentalMetrics) {
  Result<CvssScore> score =
      ScoreCvssVector("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U");
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  EXPECT_DOUBLE_EQ(score->base_score, 4.1);  // CVSS-BT
  EXPECT_EQ(score->severity, "Medium");
}

TEST(CvssFrontDoorTest, Refuses40ParseErrorsAndLowerCase) {
  Result<CvssScore> score = ScoreCvssVector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H");
  ASSERT_FALSE(score.ok());
  EXPECT_THAT(score.error().message(), HasSubstr("missing metrics SC"));
  score = ScoreCvssVector("cvss:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
  ASSERT_FALSE(score.ok());
  EXPECT_THAT(score.error().message(), HasSubstr("must start with 'CVSS:4.0/' in upper case"));
}

}  // namespace
}  // namespace rollgate
