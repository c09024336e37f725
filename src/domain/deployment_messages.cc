#include "domain/deployment_messages.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "domain/message_templates.h"

namespace rollgate {

namespace {

std::string Local(Timestamp t, const TimeZone& zone) { return FormatLocalMinutes(t, zone); }

constexpr const char* kNotRecorded = "[not recorded]";

// A value on one template line: blank becomes `fallback`; further lines are indented.
std::string Field(std::string_view value, const char* fallback) {
  std::string trimmed(Trim(value));
  if (trimmed.empty()) return fallback;
  std::string out;
  for (const std::string& line : Split(trimmed, '\n')) {
    if (!out.empty()) out += "\n  ";
    out += line;
  }
  return out;
}

}  // namespace

Message DeploymentStartMessage(const DeploymentFacts& f, const TimeZone& zone) {
  Message m;
  m.subject = fmt::format("[DEPLOYMENT START] {} - {} - {}", f.system, f.environment,
                          Local(f.started, zone));
  m.body = fmt::format(
      "Deployment has commenced.\n\nChange: {} ({})\nRun: {}\n\nTimeline:\n- {} - Deployment "
      "start\n- {} - Expected completion\n- {} - Post-deployment validation start\n",
      f.change_request, f.patch, f.run, Local(f.started, zone),
      Local(f.started + f.expected_duration, zone), Local(f.started + f.expected_duration, zone));
  m.template_name = "deployment-start";
  m.values = DeploymentFactValues(f, zone);
  return m;
}

Message DeploymentCompleteMessage(const DeploymentFacts& f, const TimeZone& zone) {
  Message m;
  m.subject = fmt::format("[DEPLOYMENT COMPLETE] {} - {} - {}", f.system, f.environment, f.outcome);
  auto duration = std::chrono::duration_cast<Seconds>(f.finished - f.started);
  m.body = fmt::format(
      "DEPLOYMENT STATUS: {}\n\nDetails:\n- Change: {} ({})\n- Run: {}\n- Completed: {}\n- "
      "Duration: {}\n- Smoke Tests: {}\n- Errors: {}\n",
      f.outcome, f.change_request, f.patch, f.run, Local(f.finished, zone),
      FormatDuration(duration), f.smoke, f.errors);
  if (f.environment == "PROD") {
    m.body += "\nPost-Deployment Actions:\n- 72-hour enhanced monitoring active\n";
  }
  if (f.environment == "TEST" && f.outcome == "SUCCESS") {
    m.body += fmt::format(
        "\nQA Team,\nThe patch has been deployed to TEST environment.\n\nNext Steps:\n- Execute "
        "manual test cases\n- Complete UAT testing\n- Report any defects\n");
  }
  m.template_name = "deployment-complete";
  m.values = DeploymentFactValues(f, zone);
  return m;
}

Message RollbackStartMessage(const DeploymentFacts& f, const TimeZone& zone) {
  Message m;
  m.subject =
      fmt::format("[EMERGENCY] ROLLBACK INITIATED - {} - {}", f.system, Local(f.started, zone));
  m.body = fmt::format(
      "ROLLBACK TRIGGER: {}\nAPPROVED BY: {}\nTARGET: Complete rollback to previous version\n"
      "Environment: {}\nChange: {}\nRun: {}\n\nTimeline:\n- {} - Rollback initiated\n",
      f.reason.empty() ? "not given" : f.reason, f.approved_by, f.environment, f.change_request,
      f.run, Local(f.started, zone));
  m.template_name = "rollback-start";
  m.values = DeploymentFactValues(f, zone);
  return m;
}

Message RollbackCompleteMessage(const DeploymentFacts& f, const TimeZone& zone) {
  Message m;
  m.subject = fmt::format("ROLLBACK COMPLETE - {} - {}", f.system, Local(f.finished, zone));
  auto duration = std::chrono::duration_cast<Seconds>(f.finished - f.started);
  m.body = fmt::format(
      "ROLLBACK STATUS: {}\n\nDetails:\n- Environment: {}\n- Change: {}\n- Run: {}\n- "
      "Completed: {}\n- Duration: {}\n- Status: {}\n\nNext Steps:\n- Investigate root cause\n- "
      "Schedule post-incident review\n",
      f.outcome == "SUCCESS" ? "COMPLETED" : "FAILED", f.environment, f.change_request, f.run,
      Local(f.finished, zone), FormatDuration(duration),
      f.outcome == "SUCCESS" ? "Success" : "Failed");
  m.template_name = "rollback-complete";
  m.values = DeploymentFactValues(f, zone);
  return m;
}

Message EmergencyApprovalRequestMessage(const ChangeRequest& cr, const Patch& patch,
                                        const std::string& environment,
                                        const std::string& requestor, Timestamp now,
                                        const TimeZone& zone) {
  const EmergencyJustification* j =
      cr.emergency_justification ? &*cr.emergency_justification : nullptr;
  std::string score = "not scored";
  if (j && j->cvss_score) {
    score = fmt::format("{:.1f}{}", *j->cvss_score,
                        j->cvss_source.empty() ? "" : fmt::format(" (source: {})", j->cvss_source));
  } else if (j && !j->cvss_source.empty()) {
    score = fmt::format("not scored (source: {})", j->cvss_source);
  }
  std::vector<std::string> references = patch.cves;
  references.insert(references.end(), patch.references.begin(), patch.references.end());
  Message m;
  m.subject = fmt::format("EMERGENCY PATCH APPROVAL REQUEST - {} - {} - {}", cr.id, cr.system,
                          PriorityName(cr.classification));
  m.body = fmt::format(
      "EMERGENCY PATCH APPROVAL REQUEST\n"
      "==================================\n"
      "Incident: {}\n"
      "Classification: {}\n"
      "CVSS Score: {}\n"
      "Vendor Reference: {}\n"
      "\n"
      "Risk Assessment:\n"
      "- Impact if not deployed: {}\n"
      "- Risk if deployed: {}\n"
      "\n"
      "Recommended Action: Deploy\n"
      "\n"
      "Requestor: {}\n"
      "Time: {}\n",
      j ? Field(j->incident, kNotRecorded) : kNotRecorded, PriorityName(cr.classification), score,
      references.empty() ? "none recorded" : Join(references, ", "),
      j ? Field(Join(j->criteria, "; "), kNotRecorded) : kNotRecorded,
      Field(cr.risk_assessment, kNotRecorded), Field(requestor, kNotRecorded), Local(now, zone));
  m.body += fmt::format(
      "\nChange Request: {} ({}, {})\n"
      "Why the normal process cannot be followed: {}\n"
      "To approve {}: rollgate cr approve {} --env {}, or give your approval by phone to the "
      "requestor, who records it; a verbal approval must be confirmed in writing.\n",
      cr.id, patch.id, cr.system, j ? Field(j->why_not_normal, kNotRecorded) : kNotRecorded,
      environment, cr.id, environment);
  m.template_name = "emergency-approval-request";
  m.values = {{"cr", cr.id},
              {"system", cr.system},
              {"environment", environment},
              {"patch", patch.id},
              {"incident", j ? Field(j->incident, kNotRecorded) : kNotRecorded},
              {"classification", std::string(PriorityName(cr.classification))},
              {"cvss", score},
              {"references", references.empty() ? "none recorded" : Join(references, ", ")},
              {"impact", j ? Field(Join(j->criteria, "; "), kNotRecorded) : kNotRecorded},
              {"risk", Field(cr.risk_assessment, kNotRecorded)},
              {"why_not_normal", j ? Field(j->why_not_normal, kNotRecorded) : kNotRecorded},
              {"requestor", Field(requestor, kNotRecorded)},
              {"time", Local(now, zone)}};
  return m;
}

}  // namespace rollgate
