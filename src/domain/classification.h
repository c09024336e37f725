// Patch classification (playbook §2.1 step 3) and the emergency criteria (§5.1).
//
// Classify() turns what is known about a patch (CVSS, exploitation, criteria declared by a
// person) into a priority and the reasons, in words, that led to it. A person may override the
// priority with a justification; the computed one is kept. Pure functions, thread-safe.
#pragma once

#include <string>

#include "common/status.h"
#include "domain/patch.h"

namespace rollgate {

// Score thresholds of §2.1: P1 ≥ 9.0, P2 7.0–8.9, P3 4.0–6.9, below that P4.
inline constexpr double kCvssCritical = 9.0;
inline constexpr double kCvssHigh = 7.0;
inline constexpr double kCvssModerate = 4.0;

// P1 for active exploitation or a preferred CVSS base score ≥ 9.0, P2 for 7.0–8.9, P3 for
// 4.0–6.9, P4 otherwise (non-security, or a security patch scored below 4.0 or not scored).
// Emergency when exploited, CVSS ≥ 9.0, or a person declared a §5.1 criterion on the patch.
// Never fails; `reasons` and `emergency_reasons` say why.
Classification Classify(const Patch& patch);

// `computed` with its priority replaced by `priority`, remembering the computed one, the
// justification and the person. InvalidArgument when the justification or person is blank.
// Overriding an override keeps the originally computed priority.
Result<Classification> OverrideClassification(Classification computed, Priority priority,
                                              std::string justification, std::string person);

// "active exploitation confirmed in the wild", "CVSS 3.1 base score 9.8 ≥ 9.0 (critical)", ...
std::string DescribeEmergencyCriterion(EmergencyCriterion criterion, const Patch& patch);

// Why `patch` does not qualify for the emergency procedure, as a sentence naming what it is:
// "PATCH-4 is P3-Moderate with CVSS 5.3 and no exploitation: none of §5.1's criteria (...)".
// Empty when its stored classification lists at least one §5.1 criterion.
std::string MissingEmergencyCriteria(const Patch& patch);

// Where the patch's preferred CVSS score comes from, for the emergency justification: the
// imported advisory ("OSV advisory GHSA-..."), else the vector recorded on the patch; empty when
// the patch is not scored.
std::string CvssSource(const Patch& patch);

}  // namespace rollgate
