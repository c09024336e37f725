// Fuzz target for the CVSS vector parsers and scorers (STYLE.md 15).
//
// Feeds arbitrary bytes to ScoreCvssVector and checks the invariants a caller relies on: no crash,
// a refusal is InvalidArgument with a message, an accepted vector has a score in [0, 10] with one
// decimal, a severity consistent with it, a claimed score equal to it passes CheckClaimedScore, and
// the normalised vector scores identically (normalisation is a fixed point).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "domain/cvss.h"

namespace {

void Check(bool condition, const char* what, std::string_view input) {
  if (condition) return;
  std::fprintf(stderr, "cvss_fuzz invariant violated: %s\ninput: %.*s\n", what,
               static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using rollgate::CvssScore;
  using rollgate::Result;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<CvssScore> score = rollgate::ScoreCvssVector(input);
  if (!score.ok()) {
    Check(score.error().code() == rollgate::StatusCode::kInvalidArgument,
          "refusal is not InvalidArgument", input);
    Check(!score.error().message().empty(), "refusal without a message", input);
    Check(score.error().message().find('\n') == std::string::npos,
          "refusal message contains a raw newline", input);
    return 0;
  }
  const double value = score->base_score;
  Check(std::isfinite(value) && value >= 0.0 && value <= 10.0, "score outside [0, 10]", input);
  Check(std::fabs(value * 10.0 - std::round(value * 10.0)) < 1e-9,
        "score has more than one decimal", input);
  Check(score->severity == rollgate::CvssSeverity(value), "severity inconsistent with score",
        input);
  const char* expected_severity = value == 0.0  ? "None"
                                  : value < 4.0 ? "Low"
                                  : value < 7.0 ? "Medium"
                                  : value < 9.0 ? "High"
                                                : "Critical";
  Check(score->severity == expected_severity, "severity outside its band", input);
  Check(score->version == "3.1" || score->version == "4.0", "unknown version", input);
  Check(rollgate::CheckClaimedScore(*score, value).ok(), "own score refused as a claim", input);

  Result<CvssScore> again = rollgate::ScoreCvssVector(score->vector);
  Check(again.ok(), "normalised vector refused", input);
  Check(again->vector == score->vector, "normalisation is not a fixed point", input);
  Check(again->base_score == value, "normalised vector scores differently", input);
  return 0;
}
