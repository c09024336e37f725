#include "domain/classification.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/strings.h"

namespace rollgate {

namespace {

// Base scores have one decimal; the margin keeps 8.9999 from binary rounding out of P1.
constexpr double kScoreEpsilon = 1e-9;

bool AtLeast(double score, double threshold) { return score + kScoreEpsilon >= threshold; }

std::string ScoreText(const CvssScore& s) {
  return fmt::format("CVSS {} base score {:.1f}", s.version, s.base_score);
}

Priority PriorityForScore(double score) {
  if (AtLeast(score, kCvssCritical)) return Priority::kP1Critical;
  if (AtLeast(score, kCvssHigh)) return Priority::kP2High;
  if (AtLeast(score, kCvssModerate)) return Priority::kP3Moderate;
  return Priority::kP4Low;
}

std::string ScoreReason(const CvssScore& s, bool exploited) {
  switch (PriorityForScore(s.base_score)) {
    case Priority::kP1Critical:
      return fmt::format("{} ≥ 9.0", ScoreText(s));
    case Priority::kP2High:
      return fmt::format("{} in 7.0–8.9", ScoreText(s));
    case Priority::kP3Moderate:
      return fmt::format("{} in 4.0–6.9", ScoreText(s));
    case Priority::kP4Low:
      return fmt::format("{} < 4.0{}", ScoreText(s), exploited ? "" : ": minimal impact");
  }
  return "";
}

void AddCriterion(Classification& c, EmergencyCriterion criterion, const Patch& patch) {
  if (std::find(c.emergency_criteria.begin(), c.emergency_criteria.end(), criterion) !=
      c.emergency_criteria.end()) {
    return;
  }
  c.emergency = true;
  c.emergency_criteria.push_back(criterion);
  c.emergency_reasons.push_back(DescribeEmergencyCriterion(criterion, patch));
}

void ClassifyPriority(const Patch& patch, Classification& c) {
  const CvssScore* score = patch.PreferredCvss();
  Priority from_score = score ? PriorityForScore(score->base_score) : Priority::kP4Low;
  c.priority = patch.exploited ? Priority::kP1Critical : from_score;
  if (patch.exploited) c.reasons.push_back("active exploitation confirmed");
  if (score) {
    c.reasons.push_back(ScoreReason(*score, patch.exploited));
  } else if (!patch.cves.empty()) {
    c.reasons.push_back(fmt::format("no CVSS score recorded for {}: classified P4 until scored",
                                    Join(patch.cves, ", ")));
  } else if (!patch.exploited) {
    c.reasons.push_back("non-security patch: no CVSS score and no exploitation");
  }
}

}  // namespace

std::string DescribeEmergencyCriterion(EmergencyCriterion criterion, const Patch& patch) {
  const CvssScore* score = patch.PreferredCvss();
  switch (criterion) {
    case EmergencyCriterion::kActiveExploitation:
      return patch.exploited ? "active exploitation confirmed in the wild"
                             : "active exploitation (declared)";
    case EmergencyCriterion::kCvssCritical:
      return score && AtLeast(score->base_score, kCvssCritical)
                 ? fmt::format("{} ≥ 9.0 (critical)", ScoreText(*score))
                 : "CVSS score ≥ 9.0 (declared)";
    case EmergencyCriterion::kServiceAvailability:
      return "service availability at immediate risk (declared)";
    case EmergencyCriterion::kRegulatoryDirective:
      return "regulatory directive requires immediate action (declared)";
    case EmergencyCriterion::kBusinessImpact:
      return "business impact: complete system outage potential (declared)";
  }
  return "";
}

std::string MissingEmergencyCriteria(const Patch& patch) {
  if (!patch.classification.emergency_criteria.empty()) return "";
  const CvssScore* score = patch.PreferredCvss();
  return fmt::format(
      "{} is {} with {} and {}: none of §5.1's criteria (active exploitation, CVSS ≥ 9.0, "
      "or a declared service-availability, regulatory-directive or business-impact criterion)",
      patch.id, PriorityName(patch.classification.priority),
      score ? fmt::format("CVSS {:.1f}", score->base_score) : std::string("no CVSS score"),
      patch.exploited ? "exploitation confirmed" : "no exploitation");
}

std::string CvssSource(const Patch& patch) {
  const CvssScore* score = patch.PreferredCvss();
  if (!score) return "";
  if (!patch.advisory_id.empty()) {
    std::string format = patch.advisory_format;
    for (char& ch : format) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return fmt::format("{} advisory {} (CVSS {})", format, patch.advisory_id, score->version);
  }
  return fmt::format("CVSS {} vector {} recorded on {}", score->version, score->vector, patch.id);
}

Classification Classify(const Patch& patch) {
  Classification c;
  ClassifyPriority(patch, c);
  c.computed_priority = c.priority;
  const CvssScore* score = patch.PreferredCvss();
  if (patch.exploited) AddCriterion(c, EmergencyCriterion::kActiveExploitation, patch);
  if (score && AtLeast(score->base_score, kCvssCritical)) {
    AddCriterion(c, EmergencyCriterion::kCvssCritical, patch);
  }
  for (EmergencyCriterion declared : patch.declared_criteria) AddCriterion(c, declared, patch);
  return c;
}

Result<Classification> OverrideClassification(Classification computed, Priority priority,
                                              std::string justification, std::string person) {
  if (Trim(justification).empty()) {
    return InvalidArgument("overriding a classification needs a justification");
  }
  if (Trim(person).empty()) {
    return InvalidArgument("overriding a classification needs the person who decides it");
  }
  if (!computed.overridden) computed.computed_priority = computed.priority;
  computed.overridden = true;
  computed.priority = priority;
  computed.override_justification = std::move(justification);
  computed.override_justification = std::string(Trim(computed.override_justification));
  computed.overridden_by = std::move(person);
  computed.reasons.push_back(fmt::format("overridden to {} by {}: {}", PriorityName(priority),
                                         computed.overridden_by, computed.override_justification));
  return computed;
}

}  // namespace rollgate
