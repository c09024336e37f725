#include "domain/rollback_messages.h"

#include <fmt/format.h>

#include "domain/message_templates.h"

namespace rollgate {

Message RollbackProgressMessage(const DeploymentFacts& f, const std::string& current_step,
                                const std::string& status, const std::string& issues, Timestamp now,
                                const TimeZone& zone) {
  Message m;
  m.subject = fmt::format("ROLLBACK IN PROGRESS - {} - {} - {}", f.system, f.environment,
                          FormatLocalMinutes(now, zone));
  auto elapsed = std::chrono::duration_cast<Seconds>(now - f.started);
  m.body = fmt::format(
      "Rollback of {} in {} (run {}), started {} ({} ago).\n\nCurrent step: {}\nStatus: {}\n"
      "Issues: {}\n\nNext update in 15 minutes or at completion.\n",
      f.change_request, f.environment, f.run, FormatLocalMinutes(f.started, zone),
      FormatDuration(elapsed), current_step.empty() ? "starting" : current_step, status,
      issues.empty() ? "none" : issues);
  m.template_name = "rollback-progress";
  m.values = DeploymentFactValues(f, zone);
  m.values["current_step"] = current_step.empty() ? "starting" : current_step;
  m.values["status"] = status;
  m.values["issues"] = issues.empty() ? "none" : issues;
  m.values["now"] = FormatLocalMinutes(now, zone);
  m.values["elapsed"] = FormatDuration(elapsed);
  return m;
}

Message DecisionNeededMessage(const DeploymentFacts& f, const std::string& triggers,
                              Timestamp deadline, const std::string& on_deadline,
                              const TimeZone& zone) {
  Message m;
  m.subject = fmt::format("[DECISION NEEDED] ROLLBACK? - {} - {} - by {}", f.system, f.environment,
                          FormatLocalMinutes(deadline, zone));
  m.body = fmt::format(
      "A rollback trigger fired after {} ({}) in {} (run {}); the playbook says: evaluate and "
      "decide.\n\nTriggers:\n{}\n\nDecide by {}; without a decision by then Rollgate will {}.\n\n"
      "  rollgate decide {} --env {} rollback --reason TEXT\n"
      "  rollgate decide {} --env {} continue --reason TEXT\n",
      f.change_request, f.patch, f.environment, f.run, triggers, FormatLocalMinutes(deadline, zone),
      on_deadline == "rollback" ? "roll back" : "leave the deployment in place", f.change_request,
      f.environment, f.change_request, f.environment);
  m.template_name = "decision-needed";
  m.values = DeploymentFactValues(f, zone);
  m.values["triggers"] = triggers;
  m.values["deadline"] = FormatLocalMinutes(deadline, zone);
  m.values["on_deadline"] = on_deadline;
  return m;
}

Message DatabaseHeldMessage(const DeploymentFacts& f, const std::string& writes,
                            const std::string& current_dump, const TimeZone& zone) {
  Message m;
  m.subject = fmt::format("[DBA DECISION NEEDED] DATABASE RESTORE HELD - {} - {} - {}", f.system,
                          f.environment, FormatLocalMinutes(f.finished, zone));
  m.body = fmt::format(
      "The rollback of {} in {} (run {}) restored the application and configuration but held "
      "the database restore: users wrote to the database after the backup ({}).\n\n"
      "The current database was saved first: {}\n\nRestoring the backup would lose those "
      "writes. Once decided, restore the database with:\n\n"
      "  rollgate rollback {} --env {} --database --reason TEXT\n",
      f.change_request, f.environment, f.run, writes,
      current_dump.empty() ? "(no dump recorded)" : current_dump, f.change_request, f.environment);
  m.template_name = "database-held";
  m.values = DeploymentFactValues(f, zone);
  m.values["writes"] = writes;
  m.values["current_dump"] = current_dump.empty() ? "(no dump recorded)" : current_dump;
  return m;
}

}  // namespace rollgate
