#include "domain/cvss31.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "domain/cvss.h"

namespace rollgate {
namespace {

constexpr std::string_view kPrefix = "CVSS:3.1/";

// Indices into the metric table below; the table is in the specification's order (Table 15).
enum Metric : size_t {
  // clang-format off
  kAv, kAc, kPr, kUi, kS, kC, kI, kA,                        // base
  kE, kRl, kRc,                                              // temporal
  kCr, kIr, kAr, kMav, kMac, kMpr, kMui, kMs, kMc, kMi, kMa,  // environmental
  // clang-format on
};

const std::vector<CvssMetricSpec>& Metrics() {
  static const auto* const kMetrics = new std::vector<CvssMetricSpec>{
      {"AV", "Attack Vector", {"N", "A", "L", "P"}, true},
      {"AC", "Attack Complexity", {"L", "H"}, true},
      {"PR", "Privileges Required", {"N", "L", "H"}, true},
      {"UI", "User Interaction", {"N", "R"}, true},
      {"S", "Scope", {"U", "C"}, true},
      {"C", "Confidentiality", {"H", "L", "N"}, true},
      {"I", "Integrity", {"H", "L", "N"}, true},
      {"A", "Availability", {"H", "L", "N"}, true},
      {"E", "Exploit Code Maturity", {"X", "H", "F", "P", "U"}, false},
      {"RL", "Remediation Level", {"X", "U", "W", "T", "O"}, false},
      {"RC", "Report Confidence", {"X", "C", "R", "U"}, false},
      {"CR", "Confidentiality Requirement", {"X", "H", "M", "L"}, false},
      {"IR", "Integrity Requirement", {"X", "H", "M", "L"}, false},
      {"AR", "Availability Requirement", {"X", "H", "M", "L"}, false},
      {"MAV", "Modified Attack Vector", {"X", "N", "A", "L", "P"}, false},
      {"MAC", "Modified Attack Complexity", {"X", "L", "H"}, false},
      {"MPR", "Modified Privileges Required", {"X", "N", "L", "H"}, false},
      {"MUI", "Modified User Interaction", {"X", "N", "R"}, false},
      {"MS", "Modified Scope", {"X", "U", "C"}, false},
      {"MC", "Modified Confidentiality", {"X", "H", "L", "N"}, false},
      {"MI", "Modified Integrity", {"X", "H", "L", "N"}, false},
      {"MA", "Modified Availability", {"X", "H", "L", "N"}, false},
  };
  return *kMetrics;
}

// Weights of the specification's Table 16. Values reaching here were validated by the parser.
double AttackVectorWeight(const std::string& v) {
  if (v == "N") return 0.85;
  if (v == "A") return 0.62;
  if (v == "L") return 0.55;
  return 0.2;  // P
}

double AttackComplexityWeight(const std::string& v) { return v == "L" ? 0.77 : 0.44; }

double PrivilegesRequiredWeight(const std::string& v, bool scope_changed) {
  if (v == "N") return 0.85;
  if (v == "L") return scope_changed ? 0.68 : 0.62;
  return scope_changed ? 0.5 : 0.27;  // H
}

double UserInteractionWeight(const std::string& v) { return v == "N" ? 0.85 : 0.62; }

double ImpactWeight(const std::string& v) {
  if (v == "H") return 0.56;
  if (v == "L") return 0.22;
  return 0.0;  // N
}

double ExploitCodeMaturityWeight(const std::string& v) {
  if (v == "F") return 0.97;
  if (v == "P") return 0.94;
  if (v == "U") return 0.91;
  return 1.0;  // X, H
}

double RemediationLevelWeight(const std::string& v) {
  if (v == "W") return 0.97;
  if (v == "T") return 0.96;
  if (v == "O") return 0.95;
  return 1.0;  // X, U
}

double ReportConfidenceWeight(const std::string& v) {
  if (v == "R") return 0.96;
  if (v == "U") return 0.92;
  return 1.0;  // X, C
}

double RequirementWeight(const std::string& v) {
  if (v == "H") return 1.5;
  if (v == "L") return 0.5;
  return 1.0;  // X, M
}

// The value of a modified metric, or of its base metric when the modified one is absent or X.
const std::string& Effective(const std::vector<std::string>& values, Metric modified, Metric base) {
  const std::string& v = values[modified];
  return (v.empty() || v == "X") ? values[base] : v;
}

bool AnyDefined(const std::vector<std::string>& values, Metric first, Metric last) {
  for (size_t i = first; i <= last; ++i) {
    if (!values[i].empty() && values[i] != "X") return true;
  }
  return false;
}

}  // namespace

double Cvss31Roundup(double value) {
  const int64_t int_input = std::llround(value * 100000.0);
  if (int_input % 10000 == 0) return static_cast<double>(int_input) / 100000.0;
  return static_cast<double>(int_input / 10000 + 1) / 10.0;
}

Result<Cvss31Scores> ScoreCvss31(std::string_view vector) {
  if (vector.substr(0, 9) == "CVSS:3.0/") {
    return InvalidArgument(
        "CVSS 3.0 vectors are not supported: only CVSS 3.1 ('CVSS:3.1/...') is scored with the "
        "3.1 formulas");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> values,
                   ParseCvssMetrics(vector, kPrefix, Metrics(), CvssMetricOrder::kAny));
  Cvss31Scores scores;
  scores.vector = FormatCvssVector(kPrefix, Metrics(), values);

  // Base (specification section 7.1).
  const bool scope_changed = values[kS] == "C";
  const double iss = 1.0 - ((1.0 - ImpactWeight(values[kC])) * (1.0 - ImpactWeight(values[kI])) *
                            (1.0 - ImpactWeight(values[kA])));
  const double impact =
      scope_changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability =
      8.22 * AttackVectorWeight(values[kAv]) * AttackComplexityWeight(values[kAc]) *
      PrivilegesRequiredWeight(values[kPr], scope_changed) * UserInteractionWeight(values[kUi]);
  if (impact <= 0) {
    scores.base_score = 0.0;
  } else if (scope_changed) {
    scores.base_score = Cvss31Roundup(std::min(1.08 * (impact + exploitability), 10.0));
  } else {
    scores.base_score = Cvss31Roundup(std::min(impact + exploitability, 10.0));
  }

  // Temporal (section 7.2).
  // Multiplied in the specification's order, left to right, so rounding matches its calculator.
  auto apply_temporal = [&values](double score) {
    return score * ExploitCodeMaturityWeight(values[kE]) * RemediationLevelWeight(values[kRl]) *
           ReportConfidenceWeight(values[kRc]);
  };
  if (AnyDefined(values, kE, kRc)) {
    scores.temporal_score = Cvss31Roundup(apply_temporal(scores.base_score));
  }

  // Environmental (section 7.3).
  if (AnyDefined(values, kCr, kMa)) {
    const bool modified_scope_changed = Effective(values, kMs, kS) == "C";
    const double miss = std::min(
        1.0 - ((1.0 - RequirementWeight(values[kCr]) * ImpactWeight(Effective(values, kMc, kC))) *
               (1.0 - RequirementWeight(values[kIr]) * ImpactWeight(Effective(values, kMi, kI))) *
               (1.0 - RequirementWeight(values[kAr]) * ImpactWeight(Effective(values, kMa, kA)))),
        0.915);
    const double modified_impact =
        modified_scope_changed ? 7.52 * (miss - 0.029) - 3.25 * std::pow(miss * 0.9731 - 0.02, 13)
                               : 6.42 * miss;
    const double modified_exploitability =
        8.22 * AttackVectorWeight(Effective(values, kMav, kAv)) *
        AttackComplexityWeight(Effective(values, kMac, kAc)) *
        PrivilegesRequiredWeight(Effective(values, kMpr, kPr), modified_scope_changed) *
        UserInteractionWeight(Effective(values, kMui, kUi));
    if (modified_impact <= 0) {
      scores.environmental_score = 0.0;
    } else if (modified_scope_changed) {
      scores.environmental_score = Cvss31Roundup(apply_temporal(
          Cvss31Roundup(std::min(1.08 * (modified_impact + modified_exploitability), 10.0))));
    } else {
      scores.environmental_score = Cvss31Roundup(
          apply_temporal(Cvss31Roundup(std::min(modified_impact + modified_exploitability, 10.0))));
    }
  }
  return scores;
}

}  // namespace rollgate
