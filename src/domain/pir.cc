#include "domain/pir.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "common/sha256.h"
#include "common/strings.h"
#include "domain/approvals.h"
#include "domain/business_calendar.h"
#include "domain/evidence_queries.h"

namespace rollgate {

namespace {

using nlohmann::json;

json ParseDetails(const std::string& text) {
  json details = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return details.is_object() ? details : json::object();
}

std::string Text(const json& details, const char* key) {
  auto it = details.find(key);
  if (it == details.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string Field(const Evidence& e, const char* key) {
  auto it = e.fields.find(key);
  return it == e.fields.end() ? std::string() : it->second;
}

std::string DurationText(std::optional<double> seconds) {
  if (!seconds) return "unknown";
  return FormatDuration(Seconds(static_cast<int64_t>(*seconds)));
}

std::string RunOf(const Evidence& e) {
  if (!e.run_id.empty()) return e.run_id;
  return Field(e, "run");
}

const Environment* LastEnvironment(const Config& config) {
  const Environment* last = nullptr;
  for (const Environment& e : config.environments) {
    if (!last || e.order > last->order) last = &e;
  }
  return last;
}

// The configured environments in promotion order.
std::vector<const Environment*> InOrder(const Config& config) {
  std::vector<const Environment*> envs;
  for (const Environment& e : config.environments) envs.push_back(&e);
  std::stable_sort(envs.begin(), envs.end(),
                   [](const Environment* a, const Environment* b) { return a->order < b->order; });
  return envs;
}

bool IsRehearsal(const Evidence& e) { return Field(e, "rehearsal") == "yes"; }

// The closings recorded on the CR, in time order.
std::vector<const Evidence*> Closings(const ChangeRequest& cr) {
  std::vector<const Evidence*> closings;
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidencePirClosed) closings.push_back(&e);
  }
  std::stable_sort(closings.begin(), closings.end(),
                   [](const Evidence* a, const Evidence* b) { return a->at < b->at; });
  return closings;
}

// The occasions of the current review and, when it is closed, its closing.
struct CurrentReview {
  std::vector<PirOccasion> occasions;
  const Evidence* closing = nullptr;
};

CurrentReview Current(const ChangeRequest& cr, const Config& config) {
  std::vector<PirOccasion> all = PirOccasions(cr, config);
  std::vector<const Evidence*> closings = Closings(cr);
  CurrentReview review;
  if (all.empty()) return review;
  const Evidence* last = closings.empty() ? nullptr : closings.back();
  for (const PirOccasion& o : all) {
    if (!last || o.at > last->at) review.occasions.push_back(o);
  }
  if (!review.occasions.empty()) return review;
  // Closed: the occasions the last closing covered (after the closing before it).
  const Evidence* previous = closings.size() >= 2 ? closings[closings.size() - 2] : nullptr;
  for (const PirOccasion& o : all) {
    if ((!previous || o.at > previous->at) && o.at <= last->at) review.occasions.push_back(o);
  }
  if (review.occasions.empty()) review.occasions = all;  // occasions no longer counted as such
  review.closing = last;
  return review;
}

std::string NoReviewMessage(const ChangeRequest& cr, const Config& config) {
  const Environment* last = LastEnvironment(config);
  return fmt::format(
      "no review is due: {} had no deployment to {}, no emergency deployment and no rollback",
      cr.id, last ? last->name : "the last environment");
}

// Runs of the CR as the audit log tells them: environment and actual start.
struct RunFacts {
  std::string environment;
  std::optional<Timestamp> started;
};

std::map<std::string, RunFacts> RunsFromEvents(const std::vector<AuditEvent>& events) {
  std::map<std::string, RunFacts> runs;
  for (const AuditEvent& event : events) {
    if (event.action == "run.created") {
      runs[event.object].environment = Text(ParseDetails(event.details), "environment");
    } else if (event.action == "run.started") {
      RunFacts& facts = runs[event.object];
      if (!facts.started || event.at < *facts.started) facts.started = event.at;
    }
  }
  return runs;
}

// "failed" for "step.failed" and "step.decided-failed".
std::string StepStateOf(const std::string& action) {
  return action.substr(action.find_last_of(".-") + 1);
}

bool IsStepProblem(const std::string& action) {
  return action == "step.failed" || action == "step.unknown" || action == "step.decided-failed" ||
         action == "step.decided-unknown";
}

std::string StepLine(const AuditEvent& event, const json& d, const std::string& state) {
  std::string exit_code = Text(d, "exit_code");
  return fmt::format("step {} {} on {} ({}, attempt {}{})", Text(d, "step"), state, Text(d, "host"),
                     event.object, Text(d, "attempt").empty() ? "1" : Text(d, "attempt"),
                     exit_code.empty() ? "" : ", exit code " + exit_code);
}

// The audit events the timeline reads (evidence has its own entries, from the CR).
std::optional<PirTimelineEntry> FromAudit(const AuditEvent& event,
                                          const std::map<std::string, RunFacts>& runs) {
  json d = ParseDetails(event.details);
  PirTimelineEntry entry;
  entry.at = event.at;
  entry.actor = event.actor;
  entry.environment = Text(d, "environment");
  const std::string& a = event.action;
  if (a == "patch.add" || a == "patch.import") {
    entry.category = "detection";
    entry.summary =
        fmt::format("{} {} ({})", event.object,
                    a == "patch.import" ? "imported from an advisory" : "added", event.actor);
  } else if (a == "patch.reclassify") {
    entry.category = "detection";
    entry.summary = fmt::format("{} reclassified", event.object);
  } else if (a == "cr.create") {
    entry.category = "detection";
    entry.summary = fmt::format("{} created", event.object);
  } else if (a == "cr.submit") {
    entry.category = "approval";
    entry.summary = "submitted for approval";
  } else if (a == "cr.approve") {
    entry.category = "approval";
    entry.summary = fmt::format("approved for {} by {} ({})", entry.environment,
                                Text(d, "approver"), Text(d, "role"));
  } else if (a == "cr.approve_verbal") {
    entry.category = "approval";
    entry.summary = fmt::format(
        "VERBAL approval for {} by {} ({}), recorded by {}; written confirmation due {}",
        entry.environment, Text(d, "approver"), Text(d, "role"), Text(d, "recorded_by"),
        Text(d, "confirmation_due"));
  } else if (a == "cr.confirm") {
    entry.category = "approval";
    entry.summary =
        fmt::format("verbal approval for {} confirmed in writing by {}{}", entry.environment,
                    Text(d, "approver"), Text(d, "late") == "true" ? " (late)" : "");
  } else if (a == "cr.reject") {
    entry.category = "approval";
    entry.summary = fmt::format("rejected for {}: {}", entry.environment, Text(d, "reason"));
  } else if (a == "cr.signoff") {
    entry.category = "approval";
    entry.summary = fmt::format("{} sign-off for {}", Text(d, "kind"), entry.environment);
  } else if (a == "cr.close") {
    entry.category = "review";
    entry.summary = "change request closed";
  } else if (a == "pir.close") {
    entry.category = "review";
    entry.summary = fmt::format("{} closed by {} ({}){}", Text(d, "review"), Text(d, "by"),
                                Text(d, "role"), Text(d, "late") == "true" ? ", late" : "");
  } else if (a == "run.started" || IsStepProblem(a)) {
    auto run = runs.find(event.object);
    entry.environment = run == runs.end() ? "" : run->second.environment;
    entry.category = "deployment";
    if (a == "run.started") {
      entry.summary = fmt::format("{} started", event.object);
    } else {
      entry.summary = StepLine(event, d, StepStateOf(a));
    }
  } else if (StartsWith(a, "watch.")) {
    entry.category = "monitoring";
    std::string what = a.substr(6);
    entry.summary = fmt::format("enhanced monitoring {} (run {}){}", what, Text(d, "run"),
                                Text(d, "reason").empty() ? "" : ": " + Text(d, "reason"));
    if (what == "fire") return std::nullopt;  // the trigger evidence says it, with figures
  } else {
    return std::nullopt;  // evidence (cr.evidence) is read from the CR itself
  }
  return entry;
}

std::string TriggerLine(const Evidence& e) {
  return fmt::format("trigger {} fired{}: {} (measured {}{}, threshold {}{}; action {})",
                     Field(e, "kind"), Field(e, "host").empty() ? "" : " on " + Field(e, "host"),
                     e.detail, Field(e, "measurement"), Field(e, "unit"), Field(e, "threshold"),
                     Field(e, "unit"), Field(e, "action"));
}

std::optional<PirTimelineEntry> FromEvidence(const Evidence& e) {
  PirTimelineEntry entry;
  entry.at = e.at;
  entry.actor = e.recorded_by;
  entry.environment = e.environment;
  std::string outcome = !e.passed ? "" : (*e.passed ? "passed: " : "FAILED: ");
  if (e.kind == kEvidenceDeployment) {
    entry.category = "deployment";
    entry.summary = fmt::format("deployment {}{}",
                                e.passed.value_or(false) ? "succeeded: " : "failed: ", e.detail);
  } else if (e.kind == kEvidenceRiskAcceptance) {
    entry.category = "deployment";
    entry.summary = "risk accepted: " + e.detail;
  } else if (e.kind == kEvidenceTrigger) {
    entry.category = "trigger";
    entry.summary = TriggerLine(e);
  } else if (e.kind == kEvidenceTriggerDecision) {
    entry.category = "rollback";
    entry.summary = "decision on a trigger: " + e.detail;
  } else if (e.kind == kEvidenceRollbackAuthorisation) {
    entry.category = "rollback";
    entry.summary = "rollback authorised: " + e.detail;
  } else if (e.kind == kEvidenceRollback) {
    entry.category = "rollback";
    entry.summary = fmt::format("rollback {}{}{} (took {})", IsRehearsal(e) ? "rehearsal " : "",
                                e.passed.value_or(false) ? "completed: " : "FAILED: ", e.detail,
                                DurationText(e.value));
  } else if (e.kind == kEvidenceNotification) {
    entry.category = "notification";
    entry.summary = "notification " + outcome + e.detail;
  } else if (e.kind == kEvidenceWatchCheckin || e.kind == kEvidenceMonitoring) {
    entry.category = "monitoring";
    entry.summary = (e.kind == kEvidenceMonitoring ? "monitoring " : "") + outcome + e.detail;
  } else {
    return std::nullopt;
  }
  return entry;
}

std::vector<std::string> PeopleWith(const Config& config, const std::vector<std::string>& roles) {
  std::vector<std::string> people;
  for (const Person& p : config.people) {
    for (const std::string& role : roles) {
      if (std::find(p.roles.begin(), p.roles.end(), role) != p.roles.end()) {
        people.push_back(p.name);
        break;
      }
    }
  }
  return people;
}

std::string PassedWord(const Evidence& e) {
  if (!e.passed) return "recorded";
  return *e.passed ? "passed" : "FAILED";
}

std::string Percent(double value) { return fmt::format("{:g} %", value); }

// §4.3 step 1 "Deployment Results", per environment.
std::vector<PirEnvironmentResult> Results(const ChangeRequest& cr, const Config& config) {
  std::vector<PirEnvironmentResult> results;
  for (const Environment* env : InOrder(config)) {
    PirEnvironmentResult r;
    r.environment = env->name;
    r.outcome = std::string(DeploymentOutcomeName(OutcomeIn(cr, env->name)));
    auto latest = [&](const char* kind) { return LatestEvidence(cr, kind, env->name); };
    for (const Evidence& e : cr.evidence) {
      if (e.environment != env->name) continue;
      if (e.kind == kEvidenceDeployment) {
        r.lines.push_back(fmt::format("deployment {}: {}{}",
                                      e.passed.value_or(false) ? "succeeded" : "FAILED", e.detail,
                                      e.value ? " (took " + DurationText(e.value) + ")" : ""));
      } else if (e.kind == kEvidenceRollback) {
        r.lines.push_back(fmt::format(
            "rollback{} {}: {} (took {})", IsRehearsal(e) ? " rehearsal" : "",
            e.passed.value_or(false) ? "completed" : "FAILED", e.detail, DurationText(e.value)));
      } else if (e.kind == kEvidenceBackup) {
        r.lines.push_back("backup: " + e.detail);
      }
    }
    if (const Evidence* e = latest(kEvidenceSmoke)) {
      r.lines.push_back(fmt::format("smoke tests {}{}: {}", PassedWord(*e),
                                    e->value ? " (" + Percent(*e->value) + ")" : "", e->detail));
    }
    if (const Evidence* e = latest(kEvidenceRegression)) {
      r.lines.push_back(fmt::format("regression {}{} (pass rate needed {}): {}", PassedWord(*e),
                                    e->value ? ", " + Percent(*e->value) : "",
                                    Percent(env->thresholds.regression_pass_rate_percent),
                                    e->detail));
    }
    for (const char* kind : {kEvidenceHealth, kEvidenceLogs, kEvidenceDataIntegrity}) {
      if (const Evidence* e = latest(kind)) {
        r.lines.push_back(fmt::format("{} {}: {}", kind, PassedWord(*e), e->detail));
      }
    }
    if (const Evidence* e = latest(kEvidenceMetrics)) {
      r.lines.push_back(
          fmt::format("metrics against the baseline {}: {}", PassedWord(*e), e->detail));
    }
    if (const Evidence* e = latest(kEvidenceMonitoring)) {
      r.lines.push_back(fmt::format("enhanced monitoring {}: {}", PassedWord(*e), e->detail));
    }
    if (const Evidence* e = latest(kEvidenceRollbackTested)) {
      r.lines.push_back(
          fmt::format("rollback rehearsal {} (took {})", PassedWord(*e), DurationText(e->value)));
    }
    if (!r.lines.empty()) results.push_back(std::move(r));
  }
  return results;
}

// When a deployment actually started: its run's start in the audit log, else its end minus its
// duration.
std::optional<Timestamp> ActualStart(const Evidence& e,
                                     const std::map<std::string, RunFacts>& runs) {
  auto run = runs.find(RunOf(e));
  if (run != runs.end() && run->second.started) return run->second.started;
  if (e.value) return e.at - Seconds(static_cast<int64_t>(*e.value));
  return std::nullopt;
}

void AddPlanDeviations(const ChangeRequest& cr, const Config& config, const TimeZone& zone,
                       const std::map<std::string, RunFacts>& runs,
                       std::vector<std::string>& lines) {
  for (const Environment* env : InOrder(config)) {
    std::vector<const Evidence*> deployments;
    for (const Evidence& e : cr.evidence) {
      if (e.kind == kEvidenceDeployment && e.environment == env->name) deployments.push_back(&e);
    }
    if (deployments.empty()) continue;
    std::stable_sort(deployments.begin(), deployments.end(),
                     [](const Evidence* a, const Evidence* b) { return a->at < b->at; });
    const Evidence& first = *deployments.front();
    std::string run = RunOf(first).empty() ? "" : ", " + RunOf(first);
    std::optional<Timestamp> actual = ActualStart(first, runs);
    auto planned = cr.scheduled.find(env->name);
    bool last_environment = env == LastEnvironment(config);
    if (planned == cr.scheduled.end()) {
      // Only the last environment is always scheduled (its maintenance window, §3.3).
      if (last_environment)
        lines.push_back(fmt::format(
            "{}: no planned start was scheduled; started {}{}", env->name,
            actual ? FormatLocalMinutes(*actual, zone) : std::string("at an unrecorded time"),
            run));
    } else if (!actual) {
      lines.push_back(fmt::format("{}: planned start {}; the actual start was not recorded{}",
                                  env->name, FormatLocalMinutes(planned->second, zone), run));
    } else {
      Seconds diff = std::chrono::duration_cast<Seconds>(*actual - planned->second);
      if (diff > -std::chrono::minutes(1) && diff < std::chrono::minutes(1)) {
        lines.push_back(fmt::format("{}: started as planned at {}{}", env->name,
                                    FormatLocalMinutes(*actual, zone), run));
      } else {
        lines.push_back(fmt::format("{}: started {} {} than planned (planned {}, actual {}{})",
                                    env->name, FormatDuration(diff < Seconds(0) ? -diff : diff),
                                    diff < Seconds(0) ? "earlier" : "later",
                                    FormatLocalMinutes(planned->second, zone),
                                    FormatLocalMinutes(*actual, zone), run));
      }
    }
    if (deployments.size() > 1) {
      std::vector<std::string> attempts;
      for (const Evidence* e : deployments) {
        attempts.push_back(fmt::format("{} {}", RunOf(*e).empty() ? "a run" : RunOf(*e),
                                       e->passed.value_or(false) ? "succeeded" : "failed"));
      }
      lines.push_back(fmt::format("{}: deployed {} times ({})", env->name, deployments.size(),
                                  Join(attempts, ", ")));
    }
    for (const Evidence* e : deployments) {
      if (!e->value) continue;
      Seconds took(static_cast<int64_t>(*e->value));
      std::string which = RunOf(*e).empty() ? "the deployment" : RunOf(*e);
      if (cr.expected_duration <= Seconds(0)) {
        lines.push_back(fmt::format("{}: {} took {} (the CR gives no expected duration)", env->name,
                                    which, FormatDuration(took)));
      } else if (took > cr.expected_duration) {
        lines.push_back(fmt::format(
            "{}: {} took {}, {} over the expected {}", env->name, which, FormatDuration(took),
            FormatDuration(took - cr.expected_duration), FormatDuration(cr.expected_duration)));
      } else {
        lines.push_back(fmt::format("{}: {} took {}, within the expected {}", env->name, which,
                                    FormatDuration(took), FormatDuration(cr.expected_duration)));
      }
    }
  }
  const Environment* last = LastEnvironment(config);
  if (last && LatestEvidence(cr, kEvidenceDeployment, last->name)) {
    std::string expected = cr.expected_downtime > Seconds(0)
                               ? "expected downtime " + FormatDuration(cr.expected_downtime)
                               : std::string("no downtime expected");
    const Evidence* monitoring = LatestEvidence(cr, kEvidenceMonitoring, last->name);
    if (monitoring && !Field(*monitoring, "availability").empty()) {
      lines.push_back(fmt::format(
          "{}: {}; availability measured after the deployment {} ({} probes, {} failed)",
          last->name, expected, Field(*monitoring, "availability"), Field(*monitoring, "probes"),
          Field(*monitoring, "failed_probes")));
    } else {
      lines.push_back(fmt::format("{}: {}; availability after the deployment not measured yet",
                                  last->name, expected));
    }
  }
}

void AddStepDeviations(const std::vector<AuditEvent>& events,
                       const std::map<std::string, RunFacts>& runs,
                       std::vector<std::string>& lines) {
  for (const AuditEvent& event : events) {
    if (!StartsWith(event.action, "step.")) continue;
    json d = ParseDetails(event.details);
    auto run = runs.find(event.object);
    std::string env =
        run == runs.end() || run->second.environment.empty() ? "" : run->second.environment + ": ";
    if (IsStepProblem(event.action)) {
      lines.push_back(env + StepLine(event, d, StepStateOf(event.action)));
    } else if (event.action == "step.succeeded" && d.contains("attempt") &&
               d["attempt"].is_number_integer() && d["attempt"].get<int64_t>() > 1) {
      lines.push_back(env + StepLine(event, d, "succeeded after a retry"));
    }
  }
}

void AddProcessDeviations(const ChangeRequest& cr, const Config& config, const TimeZone& zone,
                          Timestamp now, std::vector<std::string>& lines) {
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceTrigger) {
      lines.push_back(fmt::format("{}: {}", e.environment, TriggerLine(e)));
    } else if (e.kind == kEvidenceTriggerDecision) {
      lines.push_back(fmt::format("{}: decision on a trigger: {}", e.environment, e.detail));
    }
  }
  std::set<std::string> deployed;
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceDeployment && e.passed.value_or(false)) deployed.insert(e.environment);
  }
  std::string furthest;
  int furthest_order = -1;
  for (const Environment& env : config.environments) {
    if (deployed.count(env.name) && env.order > furthest_order) {
      furthest = env.name;
      furthest_order = env.order;
    }
  }
  for (const Environment* env : InOrder(config)) {
    if (env->order < furthest_order && !deployed.count(env->name)) {
      lines.push_back(fmt::format("environment {} skipped on the way to {}", env->name, furthest));
    }
  }
  for (const Approval& a : cr.approvals) {
    if (a.verbal) {
      Timestamp due = ConfirmationDue(a, config);
      std::string confirmation;
      if (a.confirmed_at && *a.confirmed_at >= due) {
        confirmation =
            fmt::format(", confirmed in writing LATE {} (due {})",
                        FormatLocalMinutes(*a.confirmed_at, zone), FormatLocalMinutes(due, zone));
      } else if (a.confirmed_at) {
        confirmation = ", confirmed in writing " + FormatLocalMinutes(*a.confirmed_at, zone);
      } else {
        confirmation = now >= due ? fmt::format(", NOT confirmed in writing (overdue since {})",
                                                FormatLocalMinutes(due, zone))
                                  : std::string(", NOT confirmed in writing");
      }
      lines.push_back(
          fmt::format("verbal approval for {} by {} ({}){}{}", a.environment, a.approver, a.role,
                      a.conditions.empty() ? "" : ", conditions: " + a.conditions, confirmation));
    } else if (a.emergency) {
      lines.push_back(
          fmt::format("emergency approval for {} by {} ({})", a.environment, a.approver, a.role));
    }
  }
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceRiskAcceptance) {
      lines.push_back(fmt::format("risk accepted for {}: {}", e.environment, e.detail));
    }
  }
  if (cr.emergency) {
    lines.push_back(
        "gates passed on the emergency path: emergency lead times, smoke and targeted tests only");
  }
}

// Issues the enhanced-monitoring watch found (§4.2 step 4, §4.4 step 5, §5.3 step 5): failed
// check-ins, triggers it fired, watches stopped early; else what it saw.
std::vector<std::string> WatchIssues(const ChangeRequest& cr, const std::vector<AuditEvent>& events,
                                     const TimeZone& zone, Timestamp now) {
  std::vector<std::pair<Timestamp, std::string>> issues;
  int checkins = 0;
  std::vector<std::string> quiet;
  for (const Evidence& e : cr.evidence) {
    std::string when = FormatLocalMinutes(e.at, zone);
    if (e.kind == kEvidenceWatchCheckin) {
      ++checkins;
      if (e.passed == false) {
        issues.emplace_back(e.at, fmt::format("{} {}: {}", when, e.environment, e.detail));
      }
    } else if (e.kind == kEvidenceTrigger && Field(e, "source") == "watch") {
      issues.emplace_back(e.at, fmt::format("{} {}: {}", when, e.environment, TriggerLine(e)));
    } else if (e.kind == kEvidenceMonitoring) {
      if (e.passed == false) {
        issues.emplace_back(e.at, fmt::format("{} {}: {}", when, e.environment, e.detail));
      } else {
        quiet.push_back(fmt::format("{}: {}", e.environment, e.detail));
      }
    }
  }
  struct Started {
    std::string environment;
    std::optional<Timestamp> ends;
  };
  std::map<std::string, Started> started;  // run -> the watch started on it
  std::set<std::string> finished;
  bool any_watch = false;
  for (const AuditEvent& event : events) {
    if (!StartsWith(event.action, "watch.")) continue;
    any_watch = true;
    json d = ParseDetails(event.details);
    std::string run = Text(d, "run");
    if (event.action == "watch.start") {
      Started s{Text(d, "environment"), std::nullopt};
      if (Result<Timestamp> ends = ParseTime(Text(d, "ends_at"), zone); ends.ok()) s.ends = *ends;
      started[run] = s;
    } else {
      finished.insert(run);
    }
    if (event.action == "watch.stop") {
      std::string reason = Text(d, "reason");
      issues.emplace_back(
          event.at, fmt::format("{} {}: the watch of {} was stopped by {}{}",
                                FormatLocalMinutes(event.at, zone), Text(d, "environment"), run,
                                event.actor, reason.empty() ? "" : ": " + reason));
    }
  }
  std::stable_sort(issues.begin(), issues.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> lines;
  for (auto& [at, line] : issues) lines.push_back(std::move(line));
  if (lines.empty()) {
    if (!any_watch && checkins == 0 && quiet.empty()) {
      lines.push_back("no enhanced monitoring was recorded for this change");
    } else {
      lines.push_back(fmt::format("none found: {} check-in(s), none failing", checkins));
      for (std::string& q : quiet) lines.push_back(std::move(q));
    }
  }
  for (const auto& [run, s] : started) {
    if (!finished.count(run) && s.ends && now < *s.ends) {
      lines.push_back(fmt::format("{}: the watch of {} is still active, until {}", s.environment,
                                  run, FormatLocalMinutes(*s.ends, zone)));
    }
  }
  return lines;
}

// The sections people write, in order.
std::vector<std::string> WrittenSectionTitles(bool incident) {
  if (incident)
    return {"Root cause", "Response effectiveness", "Recommendations", "Lessons learned"};
  return {"Recommendations", "Lessons learned"};
}

// Splits the text written at closing by its Markdown headings: a heading naming one of `titles`
// (any case, any level) starts that section; the rest goes to "Lessons learned".
std::map<std::string, std::vector<std::string>> SplitWritten(
    const std::string& text, const std::vector<std::string>& titles) {
  std::map<std::string, std::vector<std::string>> out;
  std::string current = "Lessons learned";
  for (std::string line : Split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string_view trimmed = Trim(line);
    if (size_t text = trimmed.find_first_not_of('#'); text > 0 && text != std::string::npos) {
      std::string heading = ToLower(Trim(trimmed.substr(text)));
      auto match = std::find_if(titles.begin(), titles.end(),
                                [&](const std::string& t) { return ToLower(t) == heading; });
      if (match != titles.end()) {
        current = *match;
        continue;
      }
    }
    out[current].push_back(line);
  }
  for (auto& [title, lines] : out) {
    while (!lines.empty() && Trim(lines.front()).empty()) lines.erase(lines.begin());
    while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  }
  return out;
}

// Refuses control characters other than tab and line breaks: the text is printed as is.
bool HasControlCharacters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\n' && c != '\r' && c != '\t') || u == 0x7f;
  });
}

struct ActiveWatchFacts {
  std::string run;
  std::string environment;
  Timestamp ends{};
};

// A watch of the CR still active at `now` (started, neither ended, fired nor stopped, its
// period not over), from the audit log.
std::optional<ActiveWatchFacts> ActiveWatch(const std::vector<AuditEvent>& events,
                                            const TimeZone& zone, Timestamp now) {
  std::map<std::string, ActiveWatchFacts> started;
  std::set<std::string> finished;
  for (const AuditEvent& event : events) {
    if (!StartsWith(event.action, "watch.")) continue;
    json d = ParseDetails(event.details);
    std::string run = Text(d, "run");
    if (event.action == "watch.start") {
      Result<Timestamp> ends = ParseTime(Text(d, "ends_at"), zone);
      if (ends.ok()) started[run] = {run, Text(d, "environment"), *ends};
    } else {
      finished.insert(run);
    }
  }
  for (const auto& [run, facts] : started) {
    if (!finished.count(run) && now < facts.ends) return facts;
  }
  return std::nullopt;
}

PirClosing ClosingOf(const Evidence& e) {
  PirClosing c;
  c.at = e.at;
  c.by = e.recorded_by;
  c.role = Field(e, "role");
  c.summary = Field(e, "summary");
  c.lessons = Field(e, "lessons");
  c.late = Field(e, "late") == "true";
  return c;
}

}  // namespace

std::string_view PirKindName(bool incident) {
  return incident ? "post-incident review" : "post-implementation review";
}

Timestamp PirDueDate(const Config& config, const TimeZone& zone, Timestamp at) {
  return DueAfterBusinessDays(at, config.review_within_business_days, config, zone);
}

std::vector<PirOccasion> PirOccasions(const ChangeRequest& cr, const Config& config) {
  std::vector<PirOccasion> occasions;
  const Environment* last = LastEnvironment(config);
  auto order = [&](const std::string& environment) {
    const Environment* env = config.FindEnvironment(environment);
    return env ? env->order : -1;
  };
  bool reached_last = false;
  const Evidence* furthest = nullptr;  // an emergency CR's first deployment furthest along
  for (const Evidence& e : cr.evidence) {
    if (e.kind == kEvidenceDeployment && last && e.environment == last->name) {
      reached_last = true;
      occasions.push_back({e.at, e.environment,
                           cr.emergency ? "emergency deployment to " + e.environment
                                        : e.environment + " deployment",
                           RunOf(e), cr.emergency});
    } else if (e.kind == kEvidenceDeployment && cr.emergency && e.passed.value_or(false) &&
               (!furthest || order(e.environment) > order(furthest->environment) ||
                (order(e.environment) == order(furthest->environment) && e.at < furthest->at))) {
      furthest = &e;
    } else if (e.kind == kEvidenceRollback && !IsRehearsal(e)) {
      occasions.push_back({e.at, e.environment, "rollback in " + e.environment, RunOf(e), true});
    }
  }
  if (!reached_last && furthest) {
    occasions.push_back({furthest->at, furthest->environment,
                         "emergency deployment to " + furthest->environment, RunOf(*furthest),
                         true});
  }
  std::stable_sort(occasions.begin(), occasions.end(),
                   [](const PirOccasion& a, const PirOccasion& b) { return a.at < b.at; });
  return occasions;
}

std::optional<PirOccasion> OpenPirOccasion(const ChangeRequest& cr, const Config& config) {
  CurrentReview review = Current(cr, config);
  if (review.closing || review.occasions.empty()) return std::nullopt;
  return review.occasions.front();
}

Result<PirStatus> CurrentPir(const ChangeRequest& cr, const Config& config, const TimeZone& zone,
                             Timestamp now) {
  CurrentReview review = Current(cr, config);
  if (review.occasions.empty()) return NotFound(NoReviewMessage(cr, config));
  PirStatus status;
  status.cr_id = cr.id;
  status.title = cr.title;
  status.system = cr.system;
  std::vector<std::string> reasons;
  for (const PirOccasion& o : review.occasions) {
    status.incident = status.incident || o.incident;
    if (std::find(reasons.begin(), reasons.end(), o.reason) == reasons.end()) {
      reasons.push_back(o.reason);
    }
  }
  status.reason = Join(reasons, " and ");
  status.occasions = std::move(review.occasions);
  status.occasion = status.occasions.front().at;
  status.due = PirDueDate(config, zone, status.occasion);
  status.within_business_days = config.review_within_business_days;
  if (review.closing) status.closing = ClosingOf(*review.closing);
  status.overdue = !status.closing && now >= status.due;
  return status;
}

Result<PirDocument> BuildPir(const ChangeRequest& cr, const std::vector<AuditEvent>& events,
                             const Config& config, const TimeZone& zone, Timestamp now) {
  ASSIGN_OR_RETURN(PirStatus status, CurrentPir(cr, config, zone, now));
  PirDocument pir;
  pir.status = std::move(status);
  pir.classification = std::string(PriorityName(cr.classification));
  const PirOccasion* emergency_deployment = nullptr;
  for (const PirOccasion& o : pir.status.occasions) {
    if (StartsWith(o.reason, "emergency deployment") && !emergency_deployment) {
      emergency_deployment = &o;
    }
    if (StartsWith(o.reason, "rollback")) pir.rolled_back = true;
  }
  pir.emergency = emergency_deployment != nullptr;

  std::map<std::string, RunFacts> runs = RunsFromEvents(events);
  for (const AuditEvent& event : events) {
    if (auto entry = FromAudit(event, runs)) pir.timeline.push_back(std::move(*entry));
  }
  for (const Evidence& e : cr.evidence) {
    if (auto entry = FromEvidence(e)) pir.timeline.push_back(std::move(*entry));
  }
  std::stable_sort(
      pir.timeline.begin(), pir.timeline.end(),
      [](const PirTimelineEntry& a, const PirTimelineEntry& b) { return a.at < b.at; });

  pir.results = Results(cr, config);

  if (pir.status.incident) {
    // §5.4 step 2: timeline of the emergency response.
    PirSection response{"Timeline of emergency response", {}, false, false};
    auto first_of = [&](const std::string& category) -> const PirTimelineEntry* {
      for (const PirTimelineEntry& t : pir.timeline) {
        if (t.category == category) return &t;
      }
      return nullptr;
    };
    const PirTimelineEntry* detection = first_of("detection");
    const PirTimelineEntry* approval = first_of("approval");
    if (detection) {
      response.lines.push_back(fmt::format(
          "detected: {} ({})", FormatLocalMinutes(detection->at, zone), detection->summary));
    }
    if (detection && approval) {
      response.lines.push_back(fmt::format("detection to first approval step: {}",
                                           FormatDuration(approval->at - detection->at)));
    }
    if (detection && emergency_deployment) {
      response.lines.push_back(fmt::format(
          "detection to emergency deployment in {}: {}", emergency_deployment->environment,
          FormatDuration(emergency_deployment->at - detection->at)));
    }
    for (const PirTimelineEntry& t : pir.timeline) {
      if (t.category == "trigger" || t.category == "rollback") {
        response.lines.push_back(
            fmt::format("{} {}: {}", FormatLocalMinutes(t.at, zone), t.environment, t.summary));
      }
    }
    if (response.lines.empty()) response.lines.push_back("see the timeline");
    pir.sections.push_back(std::move(response));

    // Effectiveness of emergency procedures (what can be measured).
    PirSection effectiveness{"Effectiveness of emergency procedures", {}, false, false};
    int rollbacks = 0;
    int failed_rollbacks = 0;
    for (const Evidence& e : cr.evidence) {
      if (e.kind != kEvidenceRollback || IsRehearsal(e)) continue;
      ++rollbacks;
      if (!e.passed.value_or(false)) ++failed_rollbacks;
      effectiveness.lines.push_back(fmt::format("rollback in {} took {} ({})", e.environment,
                                                DurationText(e.value),
                                                e.passed.value_or(false) ? "restored" : "FAILED"));
    }
    int triggers = 0;
    for (const Evidence& e : cr.evidence) triggers += e.kind == kEvidenceTrigger;
    effectiveness.lines.push_back(fmt::format("{} trigger(s) fired, {} rollback(s), {} failed",
                                              triggers, rollbacks, failed_rollbacks));
    for (const Evidence& e : cr.evidence) {
      if (e.kind == kEvidenceRollbackTested && e.value) {
        effectiveness.lines.push_back(
            fmt::format("rollback rehearsal in {} took {}", e.environment, DurationText(e.value)));
      }
      if (e.kind == kEvidenceMonitoring) {
        effectiveness.lines.push_back(
            fmt::format("enhanced monitoring in {}: {}", e.environment, e.detail));
      }
    }
    pir.sections.push_back(std::move(effectiveness));
  }

  // Deviations from the plan (and §5.4 step 3's process deviations taken).
  PirSection deviations{"Deviations from the plan", {}, false, false};
  AddPlanDeviations(cr, config, zone, runs, deviations.lines);
  AddStepDeviations(events, runs, deviations.lines);
  AddProcessDeviations(cr, config, zone, now, deviations.lines);
  if (deviations.lines.empty()) deviations.lines.push_back("none recorded");
  pir.sections.push_back(std::move(deviations));

  pir.sections.push_back(PirSection{"Issues found during enhanced monitoring",
                                    WatchIssues(cr, events, zone, now), false, false});

  std::vector<std::string> titles = WrittenSectionTitles(pir.status.incident);
  std::map<std::string, std::vector<std::string>> written;
  if (pir.status.closing) written = SplitWritten(pir.status.closing->lessons, titles);
  for (const std::string& title : titles) {
    auto it = written.find(title);
    if (it != written.end() && !it->second.empty()) {
      pir.sections.push_back({title, it->second, false, true});
    } else if (pir.status.closing) {
      pir.sections.push_back({title, {kPirNotRecorded}, false, false});
    } else {
      pir.sections.push_back({title, {kPirToBeCompleted}, true, false});
    }
  }

  pir.attendees = {
      {"Security", {kRoleSecurityLead, kRoleCiso}, {}},
      {"Operations", {kRoleItOperationsManager}, {}},
      {"Development", {kRoleDevelopmentLead}, {}},
      {"CAB", {kRoleCabChair, kRoleCabMember}, {}},
  };
  for (PirAttendeeGroup& group : pir.attendees) group.people = PeopleWith(config, group.roles);
  return pir;
}

std::string RenderPir(const PirDocument& pir, const TimeZone& zone) {
  const PirStatus& s = pir.status;
  std::string kind(PirKindName(s.incident));
  kind[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(kind[0])));
  std::string out;
  out += fmt::format("# {}: {}\n\n", kind, s.cr_id);
  out += fmt::format("- Change: {}\n", s.title);
  out += fmt::format("- System: {}\n", s.system);
  out += fmt::format("- Classification: {}\n", pir.classification);
  out += fmt::format("- Occasion: {} ({})\n", s.reason, FormatLocalMinutes(s.occasion, zone));
  if (s.occasions.size() > 1) {
    std::vector<std::string> each;
    for (const PirOccasion& o : s.occasions) {
      each.push_back(fmt::format("{} {}", o.reason, FormatLocalMinutes(o.at, zone)));
    }
    out += fmt::format("- Occasions: {}\n", Join(each, "; "));
  }
  out +=
      fmt::format("- Due: before {} (within {} business days){}\n", FormatLocalMinutes(s.due, zone),
                  s.within_business_days, s.overdue ? " — OVERDUE" : "");
  if (s.closing) {
    out +=
        fmt::format("- Closed: {} by {} ({}){}{}\n", FormatLocalMinutes(s.closing->at, zone),
                    s.closing->by, s.closing->role, s.closing->late ? ", after the due date" : "",
                    s.closing->summary.empty() ? "" : ": " + s.closing->summary);
  } else {
    out += fmt::format(
        "- Status: open; record its closing with `rollgate pir close {} --lessons "
        "FILE`\n",
        s.cr_id);
  }
  out += "\n## Attendees to invite\n\n";
  for (const PirAttendeeGroup& g : pir.attendees) {
    out += fmt::format("- {}: {}\n", g.group,
                       g.people.empty() ? "nobody configured (" + Join(g.roles, ", ") + ")"
                                        : Join(g.people, ", "));
  }
  out += "\n## Timeline\n\n";
  for (const PirTimelineEntry& t : pir.timeline) {
    out += fmt::format("- {} [{}]{} {}{}\n", FormatLocalMinutes(t.at, zone), t.category,
                       t.environment.empty() ? "" : " " + t.environment, t.summary,
                       t.actor.empty() ? "" : " — " + t.actor);
  }
  out += "\n## Results\n";
  if (pir.results.empty()) out += "\nnothing recorded\n";
  for (const PirEnvironmentResult& r : pir.results) {
    out += fmt::format("\n### {} ({})\n\n", r.environment, r.outcome);
    for (const std::string& line : r.lines) out += fmt::format("- {}\n", line);
  }
  for (const PirSection& section : pir.sections) {
    out += fmt::format("\n## {}\n\n", section.title);
    for (const std::string& line : section.lines) {
      if (section.written) {
        out += line + "\n";
      } else if (section.to_be_completed || line == kPirNotRecorded) {
        out += fmt::format("_{}_\n", line);
      } else {
        out += fmt::format("- {}\n", line);
      }
    }
  }
  return out;
}

Result<CrTransition> ClosePir(const ChangeRequest& cr, const std::vector<AuditEvent>& events,
                              const Config& config, const TimeZone& zone, std::string_view person,
                              const PirClosingDraft& draft, Timestamp now) {
  std::string lessons(Trim(draft.lessons));
  std::string summary(Trim(draft.summary));
  if (lessons.empty()) {
    return InvalidArgument(fmt::format(
        "the lessons learned of the review of {} are empty: write what the review found", cr.id));
  }
  if (draft.lessons.size() > kPirMaxLessonsBytes) {
    return InvalidArgument(
        fmt::format("the lessons learned are larger than {} KiB", kPirMaxLessonsBytes / 1024));
  }
  if (summary.size() > kPirMaxSummaryBytes) {
    return InvalidArgument(fmt::format("the summary is longer than {} bytes", kPirMaxSummaryBytes));
  }
  if (!IsValidUtf8(lessons) || !IsValidUtf8(summary)) {
    return InvalidArgument("the lessons learned and the summary must be UTF-8 text");
  }
  if (HasControlCharacters(lessons)) {
    return InvalidArgument("the lessons learned contain control characters");
  }
  if (summary.find_first_of("\r\n") != std::string::npos || HasControlCharacters(summary)) {
    return InvalidArgument("the summary must be one line of text");
  }
  if (!config.FindPerson(person)) {
    return NotFound(
        fmt::format("no person named '{}' in the configuration", EscapeForDisplay(person)));
  }
  Result<PirStatus> status = CurrentPir(cr, config, zone, now);
  if (!status.ok()) return RefusedByGate(status.error().message());
  std::string kind(PirKindName(status->incident));
  if (status->closing) {
    return RefusedByGate(fmt::format("the {} of {} ({}, {}) is already closed: by {} at {}", kind,
                                     cr.id, status->reason, FormatRfc3339Utc(status->occasion),
                                     status->closing->by, FormatRfc3339Utc(status->closing->at)));
  }
  if (auto watch = ActiveWatch(events, zone, now)) {
    return RefusedByGate(fmt::format(
        "the {} of {} cannot be closed yet: the enhanced monitoring of {} in {} runs until {} and "
        "what it finds belongs in the review (or stop it: rollgate watch stop {} --env {})",
        kind, cr.id, watch->run, watch->environment, FormatRfc3339Utc(watch->ends), cr.id,
        watch->environment));
  }
  std::string role;
  for (const std::string& r : config.review_closer_roles) {
    if (config.PersonHasRole(person, r)) {
      role = r;
      break;
    }
  }
  if (role.empty()) {
    return PermissionDenied(
        fmt::format("{} may not close the {} of {}: that takes one of the roles {} "
                    "(policy.review_closer_roles)",
                    EscapeForDisplay(person), kind, cr.id, Join(config.review_closer_roles, ", ")));
  }
  bool late = now >= status->due;
  Evidence e;
  e.kind = kEvidencePirClosed;
  e.recorded_by = std::string(person);
  e.at = now;
  e.detail = fmt::format("{} closed by {} ({}){}{}", kind, person, role, late ? ", late" : "",
                         summary.empty() ? "" : ": " + summary);
  e.fields = {{"summary", summary},
              {"lessons", lessons},
              {"role", role},
              {"reason", status->reason},
              {"occasion", FormatRfc3339Utc(status->occasion)},
              {"due", FormatRfc3339Utc(status->due)},
              {"late", late ? "true" : "false"}};
  ChangeRequest next = cr;
  next.evidence.push_back(std::move(e));
  next.updated_at = now;
  json details = {{"by", std::string(person)},
                  {"role", role},
                  {"review", kind},
                  {"reason", status->reason},
                  {"occasion", FormatRfc3339Utc(status->occasion)},
                  {"due", FormatRfc3339Utc(status->due)},
                  {"late", late},
                  {"summary", summary},
                  {"lessons_sha256", Sha256Hex(lessons)},
                  {"lessons_bytes", lessons.size()},
                  {"state", std::string(CrStateName(next.state))},
                  {"revision", next.revision}};
  return CrTransition{std::move(next), "pir.close", details.dump()};
}

}  // namespace rollgate
