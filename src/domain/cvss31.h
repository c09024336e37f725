// CVSS v3.1 scoring exactly as FIRST's "CVSS v3.1: Specification Document" defines it: the base,
// temporal and environmental equations of section 7 with the metric weights of its tables, and the
// Roundup function of Appendix A (the integer-arithmetic version that keeps floating-point error
// from bumping a score up by 0.1).
//
// Vectors are parsed strictly (domain/cvss.h ParseCvssMetrics): the "CVSS:3.1/" prefix, all eight
// base metrics, optional temporal (E, RL, RC) and environmental (CR, IR, AR, MAV, MAC, MPR, MUI,
// MS, MC, MI, MA) metrics, each at most once, in any order (the specification recommends the table
// order but accepts others). CVSS 3.0 vectors are refused, not rescored. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rollgate {

struct Cvss31Scores {
  // The vector normalised: specification order, metrics with value X (Not Defined) left out.
  std::string vector;
  double base_score = 0.0;
  // Present when the vector defines at least one temporal metric (a value other than X).
  std::optional<double> temporal_score;
  // Present when the vector defines at least one environmental metric (a value other than X).
  std::optional<double> environmental_score;
};

// Parses and scores a "CVSS:3.1/..." vector. On success returns the normalised vector and its
// scores. Fails with InvalidArgument naming the problem (see ParseCvssMetrics in domain/cvss.h);
// a "CVSS:3.0/" vector is refused with a message saying only 3.1 is scored.
Result<Cvss31Scores> ScoreCvss31(std::string_view vector);

// The specification's Roundup (Appendix A): the smallest number with one decimal that is equal to
// or higher than `value`, computed on value * 100000 rounded to an integer, so that 4.000000000001
// (a floating-point artefact of an exact 4.0) gives 4.0 while 4.02 gives 4.1. Defined for the
// non-negative values the equations produce.
double Cvss31Roundup(double value);

}  // namespace rollgate
