#include "domain/cvss40.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "domain/cvss.h"

namespace rollgate {
namespace {

constexpr std::string_view kPrefix = "CVSS:4.0/";

// Indices into the metric table below, which is in the specification's order (section 7, Table
// 23): base, threat, environmental, supplemental.
enum Metric : size_t {
  // clang-format off
  kAv, kAc, kAt, kPr, kUi, kVc, kVi, kVa, kSc, kSi, kSa,       // base
  kE,                                                           // threat
  kCr, kIr, kAr, kMav, kMac, kMat, kMpr, kMui, kMvc, kMvi,      // environmental
  kMva, kMsc, kMsi, kMsa,
  kSafety, kAutomatable, kRecovery, kValueDensity, kResponseEffort, kUrgency,  // supplemental
  // clang-format on
};

const std::vector<CvssMetricSpec>& Metrics() {
  static const auto* const kMetrics = new std::vector<CvssMetricSpec>{
      {"AV", "Attack Vector", {"N", "A", "L", "P"}, true},
      {"AC", "Attack Complexity", {"L", "H"}, true},
      {"AT", "Attack Requirements", {"N", "P"}, true},
      {"PR", "Privileges Required", {"N", "L", "H"}, true},
      {"UI", "User Interaction", {"N", "P", "A"}, true},
      {"VC", "Vulnerable System Confidentiality Impact", {"H", "L", "N"}, true},
      {"VI", "Vulnerable System Integrity Impact", {"H", "L", "N"}, true},
      {"VA", "Vulnerable System Availability Impact", {"H", "L", "N"}, true},
      {"SC", "Subsequent System Confidentiality Impact", {"H", "L", "N"}, true},
      {"SI", "Subsequent System Integrity Impact", {"H", "L", "N"}, true},
      {"SA", "Subsequent System Availability Impact", {"H", "L", "N"}, true},
      {"E", "Exploit Maturity", {"X", "A", "P", "U"}, false},
      {"CR", "Confidentiality Requirement", {"X", "H", "M", "L"}, false},
      {"IR", "Integrity Requirement", {"X", "H", "M", "L"}, false},
      {"AR", "Availability Requirement", {"X", "H", "M", "L"}, false},
      {"MAV", "Modified Attack Vector", {"X", "N", "A", "L", "P"}, false},
      {"MAC", "Modified Attack Complexity", {"X", "L", "H"}, false},
      {"MAT", "Modified Attack Requirements", {"X", "N", "P"}, false},
      {"MPR", "Modified Privileges Required", {"X", "N", "L", "H"}, false},
      {"MUI", "Modified User Interaction", {"X", "N", "P", "A"}, false},
      {"MVC", "Modified Vulnerable System Confidentiality", {"X", "H", "L", "N"}, false},
      {"MVI", "Modified Vulnerable System Integrity", {"X", "H", "L", "N"}, false},
      {"MVA", "Modified Vulnerable System Availability", {"X", "H", "L", "N"}, false},
      {"MSC", "Modified Subsequent System Confidentiality", {"X", "H", "L", "N"}, false},
      {"MSI", "Modified Subsequent System Integrity", {"X", "S", "H", "L", "N"}, false},
      {"MSA", "Modified Subsequent System Availability", {"X", "S", "H", "L", "N"}, false},
      {"S", "Safety", {"X", "N", "P"}, false},
      {"AU", "Automatable", {"X", "N", "Y"}, false},
      {"R", "Recovery", {"X", "A", "U", "I"}, false},
      {"V", "Value Density", {"X", "D", "C"}, false},
      {"RE", "Vulnerability Response Effort", {"X", "L", "M", "H"}, false},
      {"U", "Provider Urgency", {"X", "Clear", "Green", "Amber", "Red"}, false},
  };
  return *kMetrics;
}

struct MacroVectorScore {
  std::string_view macro_vector;  // EQ1..EQ6, e.g. "002201"
  double score;
};

// The score of the highest-severity vector of each of the 270 macro vectors, as published with the
// specification (the reference calculator's cvss_lookup.js). Sorted by macro vector.
constexpr MacroVectorScore kMacroVectorScores[] = {
    // clang-format off
    {"000000", 10.0}, {"000001", 9.9}, {"000010", 9.8}, {"000011", 9.5}, {"000020", 9.5}, {"000021", 9.2},
    {"000100", 10.0}, {"000101", 9.6}, {"000110", 9.3}, {"000111", 8.7}, {"000120", 9.1}, {"000121", 8.1},
    {"000200", 9.3}, {"000201", 9.0}, {"000210", 8.9}, {"000211", 8.0}, {"000220", 8.1}, {"000221", 6.8},
    {"001000", 9.8}, {"001001", 9.5}, {"001010", 9.5}, {"001011", 9.2}, {"001020", 9.0}, {"001021", 8.4},
    {"001100", 9.3}, {"001101", 9.2}, {"001110", 8.9}, {"001111", 8.1}, {"001120", 8.1}, {"001121", 6.5},
    {"001200", 8.8}, {"001201", 8.0}, {"001210", 7.8}, {"001211", 7.0}, {"001220", 6.9}, {"001221", 4.8},
    {"002001", 9.2}, {"002011", 8.2}, {"002021", 7.2}, {"002101", 7.9}, {"002111", 6.9}, {"002121", 5.0},
    {"002201", 6.9}, {"002211", 5.5}, {"002221", 2.7}, {"010000", 9.9}, {"010001", 9.7}, {"010010", 9.5},
    {"010011", 9.2}, {"010020", 9.2}, {"010021", 8.5}, {"010100", 9.5}, {"010101", 9.1}, {"010110", 9.0},
    {"010111", 8.3}, {"010120", 8.4}, {"010121", 7.1}, {"010200", 9.2}, {"010201", 8.1}, {"010210", 8.2},
    {"010211", 7.1}, {"010220", 7.2}, {"010221", 5.3}, {"011000", 9.5}, {"011001", 9.3}, {"011010", 9.2},
    {"011011", 8.5}, {"011020", 8.5}, {"011021", 7.3}, {"011100", 9.2}, {"011101", 8.2}, {"011110", 8.0},
    {"011111", 7.2}, {"011120", 7.0}, {"011121", 5.9}, {"011200", 8.4}, {"011201", 7.0}, {"011210", 7.1},
    {"011211", 5.2}, {"011220", 5.0}, {"011221", 3.0}, {"012001", 8.6}, {"012011", 7.5}, {"012021", 5.2},
    {"012101", 7.1}, {"012111", 5.2}, {"012121", 2.9}, {"012201", 6.3}, {"012211", 2.9}, {"012221", 1.7},
    {"100000", 9.8}, {"100001", 9.5}, {"100010", 9.4}, {"100011", 8.7}, {"100020", 9.1}, {"100021", 8.1},
    {"100100", 9.4}, {"100101", 8.9}, {"100110", 8.6}, {"100111", 7.4}, {"100120", 7.7}, {"100121", 6.4},
    {"100200", 8.7}, {"100201", 7.5}, {"100210", 7.4}, {"100211", 6.3}, {"100220", 6.3}, {"100221", 4.9},
    {"101000", 9.4}, {"101001", 8.9}, {"101010", 8.8}, {"101011", 7.7}, {"101020", 7.6}, {"101021", 6.7},
    {"101100", 8.6}, {"101101", 7.6}, {"101110", 7.4}, {"101111", 5.8}, {"101120", 5.9}, {"101121", 5.0},
    {"101200", 7.2}, {"101201", 5.7}, {"101210", 5.7}, {"101211", 5.2}, {"101220", 5.2}, {"101221", 2.5},
    {"102001", 8.3}, {"102011", 7.0}, {"102021", 5.4}, {"102101", 6.5}, {"102111", 5.8}, {"102121", 2.6},
    {"102201", 5.3}, {"102211", 2.1}, {"102221", 1.3}, {"110000", 9.5}, {"110001", 9.0}, {"110010", 8.8},
    {"110011", 7.6}, {"110020", 7.6}, {"110021", 7.0}, {"110100", 9.0}, {"110101", 7.7}, {"110110", 7.5},
    {"110111", 6.2}, {"110120", 6.1}, {"110121", 5.3}, {"110200", 7.7}, {"110201", 6.6}, {"110210", 6.8},
    {"110211", 5.9}, {"110220", 5.2}, {"110221", 3.0}, {"111000", 8.9}, {"111001", 7.8}, {"111010", 7.6},
    {"111011", 6.7}, {"111020", 6.2}, {"111021", 5.8}, {"111100", 7.4}, {"111101", 5.9}, {"111110", 5.7},
    {"111111", 5.7}, {"111120", 4.7}, {"111121", 2.3}, {"111200", 6.1}, {"111201", 5.2}, {"111210", 5.7},
    {"111211", 2.9}, {"111220", 2.4}, {"111221", 1.6}, {"112001", 7.1}, {"112011", 5.9}, {"112021", 3.0},
    {"112101", 5.8}, {"112111", 2.6}, {"112121", 1.5}, {"112201", 2.3}, {"112211", 1.3}, {"112221", 0.6},
    {"200000", 9.3}, {"200001", 8.7}, {"200010", 8.6}, {"200011", 7.2}, {"200020", 7.5}, {"200021", 5.8},
    {"200100", 8.6}, {"200101", 7.4}, {"200110", 7.4}, {"200111", 6.1}, {"200120", 5.6}, {"200121", 3.4},
    {"200200", 7.0}, {"200201", 5.4}, {"200210", 5.2}, {"200211", 4.0}, {"200220", 4.0}, {"200221", 2.2},
    {"201000", 8.5}, {"201001", 7.5}, {"201010", 7.4}, {"201011", 5.5}, {"201020", 6.2}, {"201021", 5.1},
    {"201100", 7.2}, {"201101", 5.7}, {"201110", 5.5}, {"201111", 4.1}, {"201120", 4.6}, {"201121", 1.9},
    {"201200", 5.3}, {"201201", 3.6}, {"201210", 3.4}, {"201211", 1.9}, {"201220", 1.9}, {"201221", 0.8},
    {"202001", 6.4}, {"202011", 5.1}, {"202021", 2.0}, {"202101", 4.7}, {"202111", 2.1}, {"202121", 1.1},
    {"202201", 2.4}, {"202211", 0.9}, {"202221", 0.4}, {"210000", 8.8}, {"210001", 7.5}, {"210010", 7.3},
    {"210011", 5.3}, {"210020", 6.0}, {"210021", 5.0}, {"210100", 7.3}, {"210101", 5.5}, {"210110", 5.9},
    {"210111", 4.0}, {"210120", 4.1}, {"210121", 2.0}, {"210200", 5.4}, {"210201", 4.3}, {"210210", 4.5},
    {"210211", 2.2}, {"210220", 2.0}, {"210221", 1.1}, {"211000", 7.5}, {"211001", 5.5}, {"211010", 5.8},
    {"211011", 4.5}, {"211020", 4.0}, {"211021", 2.1}, {"211100", 6.1}, {"211101", 5.1}, {"211110", 4.8},
    {"211111", 1.8}, {"211120", 2.0}, {"211121", 0.9}, {"211200", 4.6}, {"211201", 1.8}, {"211210", 1.7},
    {"211211", 0.7}, {"211220", 0.8}, {"211221", 0.2}, {"212001", 5.3}, {"212011", 2.4}, {"212021", 1.4},
    {"212101", 2.4}, {"212111", 1.2}, {"212121", 0.5}, {"212201", 1.0}, {"212211", 0.3}, {"212221", 0.1},
    // clang-format on
};
static_assert(std::size(kMacroVectorScores) == 270);

// The metric values that scoring sees: a modified metric replaces its base metric when defined;
// E, CR, IR and AR default to their worst case (A, H, H, H) when not defined.
struct Effective {
  char av, ac, at, pr, ui, vc, vi, va, sc, si, sa, e, cr, ir, ar;
  char msi, msa;  // as given (X when absent): EQ4 looks at MSI:S and MSA:S themselves
};

char ValueOf(const std::vector<std::string>& values, Metric metric) {
  return values[metric].empty() ? 'X' : values[metric][0];
}

char Modified(const std::vector<std::string>& values, Metric modified, Metric base) {
  char m = ValueOf(values, modified);
  return m == 'X' ? ValueOf(values, base) : m;
}

char WithDefault(const std::vector<std::string>& values, Metric metric, char worst_case) {
  char v = ValueOf(values, metric);
  return v == 'X' ? worst_case : v;
}

Effective EffectiveValues(const std::vector<std::string>& values) {
  Effective m;
  m.av = Modified(values, kMav, kAv);
  m.ac = Modified(values, kMac, kAc);
  m.at = Modified(values, kMat, kAt);
  m.pr = Modified(values, kMpr, kPr);
  m.ui = Modified(values, kMui, kUi);
  m.vc = Modified(values, kMvc, kVc);
  m.vi = Modified(values, kMvi, kVi);
  m.va = Modified(values, kMva, kVa);
  m.sc = Modified(values, kMsc, kSc);
  m.si = Modified(values, kMsi, kSi);
  m.sa = Modified(values, kMsa, kSa);
  m.e = WithDefault(values, kE, 'A');
  m.cr = WithDefault(values, kCr, 'H');
  m.ir = WithDefault(values, kIr, 'H');
  m.ar = WithDefault(values, kAr, 'H');
  m.msi = ValueOf(values, kMsi);
  m.msa = ValueOf(values, kMsa);
  return m;
}

// The equivalence classes EQ1..EQ6 of the specification's section 8.
std::array<int, 6> EquivalenceClasses(const Effective& m) {
  std::array<int, 6> eq{};
  // EQ1: 0 = AV:N and PR:N and UI:N; 1 = (AV:N or PR:N or UI:N) and not all three and not AV:P;
  //      2 = AV:P or none of AV:N, PR:N, UI:N.
  const bool any_network_none = m.av == 'N' || m.pr == 'N' || m.ui == 'N';
  if (m.av == 'N' && m.pr == 'N' && m.ui == 'N') {
    eq[0] = 0;
  } else if (any_network_none && m.av != 'P') {
    eq[0] = 1;
  } else {
    eq[0] = 2;
  }
  // EQ2: 0 = AC:L and AT:N; 1 otherwise.
  eq[1] = (m.ac == 'L' && m.at == 'N') ? 0 : 1;
  // EQ3: 0 = VC:H and VI:H; 1 = not that but one of VC, VI, VA high; 2 = none high.
  if (m.vc == 'H' && m.vi == 'H') {
    eq[2] = 0;
  } else if (m.vc == 'H' || m.vi == 'H' || m.va == 'H') {
    eq[2] = 1;
  } else {
    eq[2] = 2;
  }
  // EQ4: 0 = MSI:S or MSA:S; 1 = not that but one of SC, SI, SA high; 2 otherwise.
  if (m.msi == 'S' || m.msa == 'S') {
    eq[3] = 0;
  } else if (m.sc == 'H' || m.si == 'H' || m.sa == 'H') {
    eq[3] = 1;
  } else {
    eq[3] = 2;
  }
  // EQ5: E:A, E:P, E:U.
  eq[4] = m.e == 'A' ? 0 : (m.e == 'P' ? 1 : 2);
  // EQ6: 0 = (CR:H and VC:H) or (IR:H and VI:H) or (AR:H and VA:H); 1 otherwise.
  eq[5] =
      ((m.cr == 'H' && m.vc == 'H') || (m.ir == 'H' && m.vi == 'H') || (m.ar == 'H' && m.va == 'H'))
          ? 0
          : 1;
  return eq;
}

std::string MacroVectorString(const std::array<int, 6>& eq) {
  std::string text(6, '0');
  for (size_t i = 0; i < 6; ++i) text[i] = static_cast<char>('0' + eq[i]);
  return text;
}

// Severity levels of metric values (the reference calculator's *_levels): the distance, in tenths,
// from the most severe value. The same doubles as the reference so that results round alike.
double Level(Metric metric, char value) {
  switch (metric) {
    case kAv:
      return value == 'N' ? 0.0 : value == 'A' ? 0.1 : value == 'L' ? 0.2 : 0.3;
    case kPr:
      return value == 'N' ? 0.0 : value == 'L' ? 0.1 : 0.2;
    case kUi:
      return value == 'N' ? 0.0 : value == 'P' ? 0.1 : 0.2;
    case kAc:
      return value == 'L' ? 0.0 : 0.1;
    case kAt:
      return value == 'N' ? 0.0 : 0.1;
    case kVc:
    case kVi:
    case kVa:
      return value == 'H' ? 0.0 : value == 'L' ? 0.1 : 0.2;
    case kSc:
      return value == 'H' ? 0.1 : value == 'L' ? 0.2 : 0.3;
    case kSi:
    case kSa:
      return value == 'S' ? 0.0 : value == 'H' ? 0.1 : value == 'L' ? 0.2 : 0.3;
    case kCr:
    case kIr:
    case kAr:
      return value == 'H' ? 0.0 : value == 'M' ? 0.1 : 0.2;
    default:
      return 0.0;
  }
}

// The highest-severity vectors of each EQ level (the reference calculator's max_composed.js),
// as the values of the metrics each EQ covers.
struct Eq1Max {
  char av, pr, ui;
};
struct Eq2Max {
  char ac, at;
};
struct Eq3Eq6Max {
  char vc, vi, va, cr, ir, ar;
};
struct Eq4Max {
  char sc, si, sa;
};

const std::vector<Eq1Max>& Eq1Maxes(int eq1) {
  static const auto* const kMaxes = new std::array<std::vector<Eq1Max>, 3>{{
      {{'N', 'N', 'N'}},
      {{'A', 'N', 'N'}, {'N', 'L', 'N'}, {'N', 'N', 'P'}},
      {{'P', 'N', 'N'}, {'A', 'L', 'P'}},
  }};
  return (*kMaxes)[eq1];
}

const std::vector<Eq2Max>& Eq2Maxes(int eq2) {
  static const auto* const kMaxes = new std::array<std::vector<Eq2Max>, 2>{{
      {{'L', 'N'}},
      {{'H', 'N'}, {'L', 'P'}},
  }};
  return (*kMaxes)[eq2];
}

const std::vector<Eq3Eq6Max>& Eq3Eq6Maxes(int eq3, int eq6) {
  static const auto* const kMaxes = new std::array<std::array<std::vector<Eq3Eq6Max>, 2>, 3>{{
      {{
          {{'H', 'H', 'H', 'H', 'H', 'H'}},
          {{'H', 'H', 'L', 'M', 'M', 'H'}, {'H', 'H', 'H', 'M', 'M', 'M'}},
      }},
      {{
          {{'L', 'H', 'H', 'H', 'H', 'H'}, {'H', 'L', 'H', 'H', 'H', 'H'}},
          {{'L', 'H', 'L', 'H', 'M', 'H'},
           {'L', 'H', 'H', 'H', 'M', 'M'},
           {'H', 'L', 'H', 'M', 'H', 'M'},
           {'H', 'L', 'L', 'M', 'H', 'H'},
           {'L', 'L', 'H', 'H', 'H', 'M'}},
      }},
      {{
          {},  // EQ3 2 with EQ6 0 cannot occur: EQ6 0 needs a high VC, VI or VA.
          {{'L', 'L', 'L', 'H', 'H', 'H'}},
      }},
  }};
  return (*kMaxes)[eq3][eq6];
}

const Eq4Max& Eq4MaxFor(int eq4) {
  static constexpr Eq4Max kMaxes[] = {{'H', 'S', 'S'}, {'H', 'H', 'H'}, {'L', 'L', 'L'}};
  return kMaxes[eq4];
}

// Depth of each EQ level in severity steps, plus one (the reference calculator's
// max_severity.js).
int MaxSeverityEq1(int eq1) { return std::array{1, 4, 5}[eq1]; }
int MaxSeverityEq2(int eq2) { return std::array{1, 2}[eq2]; }
int MaxSeverityEq3Eq6(int eq3, int eq6) {
  if (eq3 == 0) return eq6 == 0 ? 7 : 6;
  if (eq3 == 1) return 8;
  return 10;
}
int MaxSeverityEq4(int eq4) { return std::array{6, 5, 4}[eq4]; }

struct Distances {
  double av, pr, ui, ac, at, vc, vi, va, sc, si, sa, cr, ir, ar;
  bool AllNonNegative() const {
    for (double d : {av, pr, ui, ac, at, vc, vi, va, sc, si, sa, cr, ir, ar}) {
      if (d < 0) return false;
    }
    return true;
  }
};

// Severity distances of the vector from the highest-severity vector of its macro vector: the
// first combination of the EQ maxima that the vector does not exceed in any metric (the reference
// keeps the last one tried if none qualifies, and so do we).
Distances SeverityDistances(const Effective& m, const std::array<int, 6>& eq) {
  Distances d{};
  const Eq4Max& eq4_max = Eq4MaxFor(eq[3]);
  for (const Eq1Max& eq1_max : Eq1Maxes(eq[0])) {
    for (const Eq2Max& eq2_max : Eq2Maxes(eq[1])) {
      for (const Eq3Eq6Max& eq3_max : Eq3Eq6Maxes(eq[2], eq[5])) {
        d.av = Level(kAv, m.av) - Level(kAv, eq1_max.av);
        d.pr = Level(kPr, m.pr) - Level(kPr, eq1_max.pr);
        d.ui = Level(kUi, m.ui) - Level(kUi, eq1_max.ui);
        d.ac = Level(kAc, m.ac) - Level(kAc, eq2_max.ac);
        d.at = Level(kAt, m.at) - Level(kAt, eq2_max.at);
        d.vc = Level(kVc, m.vc) - Level(kVc, eq3_max.vc);
        d.vi = Level(kVi, m.vi) - Level(kVi, eq3_max.vi);
        d.va = Level(kVa, m.va) - Level(kVa, eq3_max.va);
        d.sc = Level(kSc, m.sc) - Level(kSc, eq4_max.sc);
        d.si = Level(kSi, m.si) - Level(kSi, eq4_max.si);
        d.sa = Level(kSa, m.sa) - Level(kSa, eq4_max.sa);
        d.cr = Level(kCr, m.cr) - Level(kCr, eq3_max.cr);
        d.ir = Level(kIr, m.ir) - Level(kIr, eq3_max.ir);
        d.ar = Level(kAr, m.ar) - Level(kAr, eq3_max.ar);
        if (d.AllNonNegative()) return d;
      }
    }
  }
  return d;
}

std::optional<double> LookUp(const std::array<int, 6>& eq) {
  for (int digit : eq) {
    if (digit < 0 || digit > 2) return std::nullopt;
  }
  return Cvss40MacroVectorScore(MacroVectorString(eq));
}

std::array<int, 6> Lowered(std::array<int, 6> eq, size_t index) {
  ++eq[index];
  return eq;
}

// The scoring algorithm of the specification's section 8.2, step by step as the reference
// calculator (cvss_score.js) performs it, in the same floating-point operations.
double Score(const Effective& m) {
  if (m.vc == 'N' && m.vi == 'N' && m.va == 'N' && m.sc == 'N' && m.si == 'N' && m.sa == 'N') {
    return 0.0;
  }
  const std::array<int, 6> eq = EquivalenceClasses(m);
  const double value = *LookUp(eq);  // every reachable macro vector is in the table

  // 1a. The next lower macro vector of each EQ (EQ3 and EQ6 move together) and its score;
  //     absent when there is none.
  const std::optional<double> lower_eq1 = LookUp(Lowered(eq, 0));
  const std::optional<double> lower_eq2 = LookUp(Lowered(eq, 1));
  std::optional<double> lower_eq3eq6;
  if (eq[2] == 0 && eq[5] == 0) {
    // Two paths down (00 -> 01 and 00 -> 10): the higher score is the next one.
    std::optional<double> left = LookUp(Lowered(eq, 5));
    std::optional<double> right = LookUp(Lowered(eq, 2));
    lower_eq3eq6 =
        (left && right) ? std::optional<double>(std::max(*left, *right)) : (left ? left : right);
  } else if (eq[2] == 1 && eq[5] == 0) {
    lower_eq3eq6 = LookUp(Lowered(eq, 5));  // 10 -> 11
  } else if (eq[5] == 1 && eq[2] < 2) {
    lower_eq3eq6 = LookUp(Lowered(eq, 2));  // 01 -> 11, 11 -> 21
  }                                         // 21 is the lowest.
  const std::optional<double> lower_eq4 = LookUp(Lowered(eq, 3));
  const std::optional<double> lower_eq5 = LookUp(Lowered(eq, 4));

  // 1b. Severity distance from the highest-severity vector of the macro vector.
  const Distances d = SeverityDistances(m, eq);
  const double distance_eq1 = d.av + d.pr + d.ui;
  const double distance_eq2 = d.ac + d.at;
  const double distance_eq3eq6 = d.vc + d.vi + d.va + d.cr + d.ir + d.ar;
  const double distance_eq4 = d.sc + d.si + d.sa;

  // 1c, 1d. Proportion of the distance within the macro vector's depth, times the score
  //         difference to the next lower macro vector. EQ5 contributes 0 when it has one.
  constexpr double kStep = 0.1;
  int existing_lower = 0;
  double normalized_eq1 = 0.0;
  double normalized_eq2 = 0.0;
  double normalized_eq3eq6 = 0.0;
  double normalized_eq4 = 0.0;
  double normalized_eq5 = 0.0;
  if (lower_eq1) {
    ++existing_lower;
    normalized_eq1 = (value - *lower_eq1) * (distance_eq1 / (MaxSeverityEq1(eq[0]) * kStep));
  }
  if (lower_eq2) {
    ++existing_lower;
    normalized_eq2 = (value - *lower_eq2) * (distance_eq2 / (MaxSeverityEq2(eq[1]) * kStep));
  }
  if (lower_eq3eq6) {
    ++existing_lower;
    normalized_eq3eq6 =
        (value - *lower_eq3eq6) * (distance_eq3eq6 / (MaxSeverityEq3Eq6(eq[2], eq[5]) * kStep));
  }
  if (lower_eq4) {
    ++existing_lower;
    normalized_eq4 = (value - *lower_eq4) * (distance_eq4 / (MaxSeverityEq4(eq[3]) * kStep));
  }
  if (lower_eq5) {
    ++existing_lower;
    normalized_eq5 = (value - *lower_eq5) * 0.0;
  }

  // 2. The mean of the proportional distances; 3. subtracted from the macro vector's score,
  //    clamped to [0, 10] and rounded to one decimal, half up. The reference lifts the value by
  //    1e-6 first so that a tie computed one ulp low (2.4 - 0.65 = 1.7499999999999998) still
  //    rounds up, as exact arithmetic would (RedHatProductSecurity/cvss-v4-calculator#66).
  const double mean_distance = existing_lower == 0
                                   ? 0.0
                                   : (normalized_eq1 + normalized_eq2 + normalized_eq3eq6 +
                                      normalized_eq4 + normalized_eq5) /
                                         existing_lower;
  const double score = std::clamp(value - mean_distance, 0.0, 10.0);
  constexpr double kTieEpsilon = 1e-6;
  return std::round((score + kTieEpsilon) * 10.0) / 10.0;
}

bool AnyDefined(const std::vector<std::string>& values, Metric first, Metric last) {
  for (size_t i = first; i <= last; ++i) {
    if (!values[i].empty() && values[i] != "X") return true;
  }
  return false;
}

}  // namespace

std::optional<double> Cvss40MacroVectorScore(std::string_view macro_vector) {
  const auto* end = std::end(kMacroVectorScores);
  const auto* found = std::lower_bound(
      std::begin(kMacroVectorScores), end, macro_vector,
      [](const MacroVectorScore& entry, std::string_view key) { return entry.macro_vector < key; });
  if (found == end || found->macro_vector != macro_vector) return std::nullopt;
  return found->score;
}

Result<Cvss40Scores> ScoreCvss40(std::string_view vector) {
  ASSIGN_OR_RETURN(std::vector<std::string> values,
                   ParseCvssMetrics(vector, kPrefix, Metrics(), CvssMetricOrder::kSpecified));
  Cvss40Scores scores;
  scores.vector = FormatCvssVector(kPrefix, Metrics(), values);
  const Effective effective = EffectiveValues(values);
  scores.macro_vector = MacroVectorString(EquivalenceClasses(effective));
  scores.score = Score(effective);
  scores.nomenclature = "CVSS-B";
  if (AnyDefined(values, kE, kE)) scores.nomenclature += 'T';
  if (AnyDefined(values, kCr, kMsa)) scores.nomenclature += 'E';
  return scores;
}

}  // namespace rollgate
