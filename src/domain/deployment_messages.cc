#include "domain/deployment_messages.h"

#include <fmt/format.h>

namespace rollgate {

namespace {

std::string Local(Timestamp t, const TimeZone& zone) { return FormatLocalMinutes(t, zone); }

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
  return m;
}

}  // namespace rollgate
