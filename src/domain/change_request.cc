#include "domain/change_request.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace rollgate {

std::string_view ChangeTypeName(ChangeType t) {
  switch (t) {
    case ChangeType::kSecurity:
      return "security";
    case ChangeType::kStandard:
      return "standard";
    case ChangeType::kInfrastructure:
      return "infrastructure";
  }
  return "";
}

Result<ChangeType> ParseChangeType(std::string_view text) {
  std::string lowered = ToLower(text);
  for (auto t : {ChangeType::kSecurity, ChangeType::kStandard, ChangeType::kInfrastructure}) {
    if (lowered == ChangeTypeName(t)) return t;
  }
  return InvalidArgument(
      fmt::format("unknown change type '{}': expected security, standard or infrastructure",
                  EscapeForDisplay(text)));
}

std::string_view CrStateName(CrState s) {
  switch (s) {
    case CrState::kDraft:
      return "draft";
    case CrState::kSubmitted:
      return "submitted";
    case CrState::kInProgress:
      return "in-progress";
    case CrState::kCompleted:
      return "completed";
    case CrState::kClosed:
      return "closed";
    case CrState::kRejected:
      return "rejected";
    case CrState::kCancelled:
      return "cancelled";
  }
  return "";
}

Result<CrState> ParseCrState(std::string_view text) {
  for (auto s : {CrState::kDraft, CrState::kSubmitted, CrState::kInProgress, CrState::kCompleted,
                 CrState::kClosed, CrState::kRejected, CrState::kCancelled}) {
    if (text == CrStateName(s)) return s;
  }
  return InvalidArgument(fmt::format(
      "unknown CR state '{}': expected draft, submitted, in-progress, completed, closed, "
      "rejected or cancelled",
      EscapeForDisplay(text)));
}

std::string_view RollbackComplexityName(RollbackComplexity c) {
  switch (c) {
    case RollbackComplexity::kLow:
      return "low";
    case RollbackComplexity::kMedium:
      return "medium";
    case RollbackComplexity::kHigh:
      return "high";
  }
  return "";
}

Result<RollbackComplexity> ParseRollbackComplexity(std::string_view text) {
  std::string lowered = ToLower(text);
  for (auto c :
       {RollbackComplexity::kLow, RollbackComplexity::kMedium, RollbackComplexity::kHigh}) {
    if (lowered == RollbackComplexityName(c)) return c;
  }
  return InvalidArgument(fmt::format(
      "unknown rollback complexity '{}': expected low, medium or high", EscapeForDisplay(text)));
}

std::vector<std::string> KnownEvidenceKinds() {
  return {kEvidenceDeployment,
          kEvidenceSmoke,
          kEvidenceRegression,
          kEvidenceHealth,
          kEvidenceLogs,
          kEvidenceBackup,
          kEvidenceReadiness,
          kEvidenceRollbackTested,
          kEvidenceWindowConfirmed,
          kEvidenceRiskAcceptance,
          kEvidenceNotification,
          kEvidencePackageVerified,
          kEvidencePrerequisites,
          kEvidenceMonitoring,
          kEvidenceMetrics,
          kEvidenceBusinessFunctions,
          kEvidenceDataIntegrity,
          kEvidenceTestResultsApproved,
          kEvidenceRollback,
          kEvidencePirScheduled,
          kEvidenceTrigger,
          kEvidenceTriggerDecision,
          kEvidenceRollbackAuthorisation,
          kEvidenceWatchCheckin,
          kEvidenceDiagnosis,
          kEvidenceBackupVerified,
          kEvidenceAlerts};
}

}  // namespace rollgate
