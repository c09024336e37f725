// CVSS v4.0 scoring exactly as FIRST's "CVSS v4.0 Specification Document" (section 8) and its
// reference calculator define it: the vector's macro vector (equivalence classes EQ1..EQ6), the
// published score of every macro vector, and the interpolation by severity distance from the
// macro vector's highest-severity vectors, rounded to one decimal half up. Like the current
// reference calculator (since its fix for RedHatProductSecurity/cvss-v4-calculator#66), a value
// that floating point leaves a hair below a tie (1.7499999999999998 for an exact 1.75) rounds up.
//
// Vectors are parsed strictly (domain/cvss.h ParseCvssMetrics): the "CVSS:4.0/" prefix, all eleven
// base metrics, optional threat (E), environmental (CR, IR, AR, MAV ... MSA) and supplemental (S,
// AU, R, V, RE, U) metrics, each at most once and in the order of the specification's table, as
// the specification requires. Supplemental metrics are validated but never change the score.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rollgate {

struct Cvss40Scores {
  // The vector normalised: specification order, metrics with value X (Not Defined) left out.
  std::string vector;
  // The CVSS v4.0 score of the vector as given: CVSS-B when only base metrics are defined,
  // CVSS-BT / CVSS-BE / CVSS-BTE when threat and/or environmental metrics are.
  double score = 0.0;
  std::string nomenclature;  // "CVSS-B", "CVSS-BT", "CVSS-BE" or "CVSS-BTE"
  std::string macro_vector;  // EQ1..EQ6 as six digits, e.g. "002201"
};

// Parses and scores a "CVSS:4.0/..." vector. On success returns the normalised vector, its score,
// nomenclature and macro vector. Fails with InvalidArgument naming the problem (see
// ParseCvssMetrics in domain/cvss.h), including a metric out of the specified order.
Result<Cvss40Scores> ScoreCvss40(std::string_view vector);

// The published score of a macro vector ("000000" -> 10.0), or nullopt for a string that is not
// one of the 270 macro vectors.
std::optional<double> Cvss40MacroVectorScore(std::string_view macro_vector);

}  // namespace rollgate
