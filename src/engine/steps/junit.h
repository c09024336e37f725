// Reading JUnit XML test reports (the regression step, §3.2 "≥95 % pass rate").
//
// A report's root is <testsuites> or <testsuite>. Counting rule, per <testsuite>:
//   - a suite with nested <testsuite> children counts as the sum of its children plus its own
//     direct <testcase> elements (its own attributes are aggregates and are not added again);
//   - a leaf suite counts its attributes tests/failures/errors/skipped when it has a "tests"
//     attribute (missing failures/errors/skipped count 0), else its <testcase> children (one with
//     <failure>, <error> or <skipped> counts as that);
//   - the <testsuites> root's own attributes are aggregates as well: only its suites count.
// The names of failing test cases ("classname.name" of those with <failure> or <error>) are
// collected in document order.
//
// The parser (pugixml) reads no DTD and fetches nothing: entities other than the predefined ones
// are not expanded, so a hostile report cannot reach files or the network.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rollgate {

struct JUnitSummary {
  int64_t tests = 0;
  int64_t failures = 0;
  int64_t errors = 0;
  int64_t skipped = 0;
  std::vector<std::string> failed_cases;  // "classname.name", in document order

  // Adds `other`'s counts and failing cases to this one.
  void Add(const JUnitSummary& other);
  // (tests - failures - errors - skipped) / (tests - skipped) * 100; 0 when no test ran (an
  // empty or all-skipped report proves nothing).
  double PassRate() const;
};

// Parses one JUnit XML document. InvalidArgument naming the problem for malformed XML (with the
// byte offset), a root other than <testsuites>/<testsuite>, a count that is not a whole number,
// or a suite whose failures + errors + skipped exceed its tests.
Result<JUnitSummary> ParseJUnit(std::string_view xml);

}  // namespace rollgate
