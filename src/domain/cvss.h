// CVSS scoring, the front door: scores a CVSS 3.1 or 4.0 vector string, names the qualitative
// severity of a score, and checks a score claimed by an advisory against its vector.
//
// Version-specific scoring lives in domain/cvss31.h and domain/cvss40.h; both parse vectors with
// ParseCvssMetrics below, so every refusal reads the same whatever the version. Pure functions
// without I/O; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/patch.h"

namespace rollgate {

// Longest vector string accepted. The longest valid 4.0 vector (every metric given) is far
// shorter; anything longer is refused before it is split.
inline constexpr size_t kMaxCvssVectorLength = 512;

// Scores `vector`, dispatching on its prefix: "CVSS:3.1/" (domain/cvss31.h) or "CVSS:4.0/"
// (domain/cvss40.h). On success returns version "3.1" or "4.0", the normalised vector, the score
// and its severity. For 3.1 `base_score` is the base score even when temporal or environmental
// metrics are present; for 4.0 it is the score of the vector as given (CVSS-B, -BT, -BE or -BTE).
// Fails with InvalidArgument naming what is wrong: an empty or overlong vector, a missing or
// unsupported prefix (CVSS 2.0 and 3.0 are refused, not scored with other formulas), and every
// parse error of the version's parser.
Result<CvssScore> ScoreCvssVector(std::string_view vector);

// The qualitative severity rating shared by CVSS 3.1 and 4.0: "None" for 0.0, "Low" for 0.1-3.9,
// "Medium" for 4.0-6.9, "High" for 7.0-8.9, "Critical" for 9.0-10.0. Scores are compared after
// rounding to one decimal; values outside [0, 10] are clamped.
std::string CvssSeverity(double score);

// Checks a score claimed alongside a vector (an advisory's baseScore) against the computed one.
// Returns OK when they differ by at most 0.05; otherwise InvalidArgument
// "score 9.1 does not match the vector (computed 7.5)". A claim that is not a finite number in
// [0, 10] is refused likewise.
Status CheckClaimedScore(const CvssScore& computed, double claimed);

// ---------------------------------------------------------------------------------------------
// Shared by the version parsers (cvss31.cc, cvss40.cc); callers outside scoring should not need
// these.

// One metric of a CVSS version: its abbreviation in vectors, its name for messages, the values
// the vector string may carry for it, and whether every vector must carry it.
struct CvssMetricSpec {
  std::string key;                  // "AV"
  std::string name;                 // "Attack Vector"
  std::vector<std::string> values;  // "N", "A", ...; "X" (Not Defined) where the spec allows it
  bool mandatory = false;
};

enum class CvssMetricOrder {
  kAny,        // metrics may appear in any order (CVSS 3.1)
  kSpecified,  // metrics must appear in the order of the spec table (CVSS 4.0)
};

// Parses "<prefix>K:V/K:V/..." against `specs`. `prefix` includes the trailing slash
// ("CVSS:3.1/"). On success returns one value per spec, in the order of `specs`, "" for an
// optional metric that is absent. Fails with InvalidArgument, naming the problem and echoing input
// only through EscapeForDisplay: empty or overlong input, whitespace or control characters, wrong
// prefix, trailing '/', empty component, a component that is not METRIC:VALUE, unknown metric
// (with a did-you-mean and a hint when it is lower case), duplicate metric, invalid value (naming
// the metric, the value and the allowed values), metric out of order (kSpecified only) and
// missing mandatory metrics (each named with its full name).
Result<std::vector<std::string>> ParseCvssMetrics(std::string_view vector, std::string_view prefix,
                                                  const std::vector<CvssMetricSpec>& specs,
                                                  CvssMetricOrder order);

// The normalised vector: `prefix` followed by the metrics in spec order, omitting absent metrics
// and those whose value is "X" (Not Defined, which never changes a score).
std::string FormatCvssVector(std::string_view prefix, const std::vector<CvssMetricSpec>& specs,
                             const std::vector<std::string>& values);

}  // namespace rollgate
