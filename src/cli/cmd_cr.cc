// cr create | edit | justify | attach | submit | schedule | request-approval | approve | confirm |
// reject | signoff | evidence | show | list | checklist | archive | cancel | close, and gate check.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "domain/cr_document.h"
#include "service/calendar_service.h"
#include "service/cr_archive.h"
#include "service/cr_service.h"
#include "service/emergency_approval.h"
#include "service/notification_service.h"
#include "views/views.h"

namespace rollgate::cli {

namespace {

constexpr size_t kMaxPlanBytes = 256 * 1024;

Result<CrService> MakeService(Context& ctx) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  return CrService(*config, *store, ctx.clock(), ctx.zone());
}

// Reads a plan document named by a flag (the flag says it is a file; nothing else is expanded).
Result<std::string> ReadPlanFile(const std::string& flag, const std::string& path) {
  return ReadInputFile(flag, path, kMaxPlanBytes, /*text=*/true);
}

// InvalidArgument naming `flag` when `value` is not UTF-8: it would be stored and shown as text.
Status CheckUtf8(std::string_view flag, const std::string& value) {
  if (IsValidUtf8(value)) return Status::Ok();
  return InvalidArgument(fmt::format("{} is not valid UTF-8", flag));
}

// The CR's patch, or nullopt when it cannot be read (the document then shows it as pending).
std::optional<Patch> LoadPatch(Context& ctx, const ChangeRequest& cr) {
  std::optional<Patch> patch;
  Result<Store*> store = ctx.GetStore();
  if (!store.ok()) return patch;
  (void)(*store)->Read([&](Transaction& tx) -> Status {
    Result<Patch> p = tx.GetPatch(cr.patch_id);
    if (p.ok()) patch = std::move(*p);
    return Status::Ok();
  });
  return patch;
}

// Prints a CR after a change: the short confirmation, or the JSON document (the same as
// `cr show --output json`).
Status PrintChanged(Context& ctx, const ChangeRequest& cr, const std::string& what) {
  if (ctx.json()) {
    std::optional<Patch> patch = LoadPatch(ctx, cr);
    PrintJson(ctx, CrToJson(cr, patch ? &*patch : nullptr, *ctx.GetConfig().value(),
                            ctx.clock().Now(), ctx.zone()));
  } else {
    ctx.out() << fmt::format("{}: {} (state {})\n", cr.id, what, CrStateName(cr.state));
  }
  return Status::Ok();
}

// The calendar conflicts of scheduling `id` in `env` at `t`, printed on stderr as warnings;
// RefusedByGate for an overlap where the environment requires a maintenance window
// (CalendarService::CheckSchedule).
Result<std::vector<CalendarConflict>> CheckScheduleConflicts(Context& ctx, const std::string& id,
                                                             const std::string& env, Timestamp t) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  CalendarService calendar(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(std::vector<CalendarConflict> conflicts, calendar.CheckSchedule(id, env, t));
  for (const CalendarConflict& c : conflicts) {
    ctx.err() << "rollgate: warning: " << c.detail << "\n";
  }
  return conflicts;
}

// The §2.5 pre-deployment notices due now (an "immediate" environment, a late schedule), said on
// stderr; `cr` as it is afterwards (with their evidence).
Result<ChangeRequest> SendDueNotices(Context& ctx, const ChangeRequest& cr,
                                     const std::string& actor) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  NotificationService notifications(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(std::vector<std::string> sent, notifications.SendDueAdvanceNotices(actor));
  for (const std::string& notice : sent) {
    if (!ctx.json())
      ctx.err() << "rollgate: pre-deployment notice (playbook 2.5): " << notice << "\n";
  }
  ChangeRequest now = cr;
  RETURN_IF_ERROR(store->Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(now, tx.GetChangeRequest(cr.id));
    return Status::Ok();
  }));
  return now;
}

Status PrintScheduled(Context& ctx, const ChangeRequest& cr, Timestamp t, const std::string& env,
                      const std::vector<CalendarConflict>& conflicts) {
  if (!ctx.json()) {
    return PrintChanged(ctx, cr,
                        fmt::format("{} scheduled for {}", env, FormatLocalMinutes(t, ctx.zone())));
  }
  std::optional<Patch> patch = LoadPatch(ctx, cr);
  nlohmann::json out = CrToJson(cr, patch ? &*patch : nullptr, *ctx.GetConfig().value(),
                                ctx.clock().Now(), ctx.zone());
  out["conflicts"] = nlohmann::json::array();
  for (const CalendarConflict& c : conflicts) out["conflicts"].push_back(CalendarConflictToJson(c));
  PrintJson(ctx, out);
  return Status::Ok();
}

// The command-line flag of a draft field: "rollback_plan" -> "--rollback-plan".
std::string FlagName(std::string_view field) {
  if (field == "affected_systems") return "--affected-system";
  std::string flag = "--" + std::string(field);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

Status RunCreate(Context& ctx, const CrCreateArgs& a) {
  ASSIGN_OR_RETURN(CrDraftText text, ReadCrDraftFiles(a.draft));
  std::string field;
  ASSIGN_OR_RETURN(CrDraft draft, ParseCrDraft(text, FlagName, field));
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(ChangeRequest cr, service.Create(a.patch, draft, actor));
  if (ctx.json()) return PrintChanged(ctx, cr, "created");
  ctx.out() << fmt::format("{}: created '{}' ({}), state {}\n", cr.id, EscapeForDisplay(cr.title),
                           PriorityName(cr.classification), CrStateName(cr.state));
  return Status::Ok();
}

struct EditArgs {
  std::string id;
  std::optional<std::string> description, implementation_plan, rollback_plan, risk, test_plan, type,
      downtime, duration, rollback_complexity;
  std::vector<std::string> affected;
  CLI::Option* affected_option = nullptr;
};

Status RunEdit(Context& ctx, const EditArgs& a) {
  CrEdit edit;
  if (a.description) {
    RETURN_IF_ERROR(CheckUtf8("--description", *a.description));
    edit.description = *a.description;
  }
  if (a.risk) {
    RETURN_IF_ERROR(CheckUtf8("--risk", *a.risk));
    edit.risk_assessment = *a.risk;
  }
  if (a.implementation_plan) {
    ASSIGN_OR_RETURN(edit.implementation_plan,
                     ReadPlanFile("--implementation-plan", *a.implementation_plan));
  }
  if (a.rollback_plan) {
    ASSIGN_OR_RETURN(edit.rollback_plan, ReadPlanFile("--rollback-plan", *a.rollback_plan));
  }
  if (a.test_plan) {
    ASSIGN_OR_RETURN(edit.test_plan, ReadPlanFile("--test-plan", *a.test_plan));
  }
  if (a.affected_option && a.affected_option->count() > 0) edit.affected_systems = a.affected;
  if (a.type) {
    ASSIGN_OR_RETURN(edit.type, ParseChangeType(*a.type));
  }
  if (a.downtime) {
    ASSIGN_OR_RETURN(edit.expected_downtime, ParseDuration(*a.downtime, /*allow_zero=*/true));
  }
  if (a.duration) {
    ASSIGN_OR_RETURN(edit.expected_duration, ParseDuration(*a.duration));
  }
  if (a.rollback_complexity) {
    ASSIGN_OR_RETURN(edit.rollback_complexity, ParseRollbackComplexity(*a.rollback_complexity));
  }
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(ChangeRequest cr, service.Edit(a.id, edit, actor));
  return PrintChanged(ctx, cr, fmt::format("edited, now revision {}", cr.revision));
}

Status RunRequestApproval(Context& ctx, const std::string& id, const std::string& env) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  ASSIGN_OR_RETURN(
      EmergencyApprovalRequest request,
      RequestEmergencyApproval(*config, *store, ctx.clock(), ctx.zone(), id, env, actor));
  std::vector<std::string> phone_list;
  for (const EmergencyApprover& a : request.approvers) {
    phone_list.push_back(fmt::format("{} ({}) {}", a.person->name, a.role,
                                     a.person->phone.empty() ? "no phone" : a.person->phone));
  }
  if (ctx.json()) {
    nlohmann::json approvers = nlohmann::json::array();
    for (const EmergencyApprover& a : request.approvers) {
      approvers.push_back({{"person", a.person->name},
                           {"full_name", a.person->full_name},
                           {"role", a.role},
                           {"email", a.person->email},
                           {"phone", a.person->phone}});
    }
    nlohmann::json deliveries = nlohmann::json::array();
    for (const Evidence& e : request.deliveries) {
      auto field = [&](const char* key) {
        auto it = e.fields.find(key);
        return it == e.fields.end() ? std::string() : it->second;
      };
      deliveries.push_back({{"person", field("person")},
                            {"channel", field("channel")},
                            {"sent", e.passed == true},
                            {"detail", e.detail}});
    }
    PrintJson(ctx, {{"cr", request.cr_id},
                    {"environment", request.environment},
                    {"subject", request.message.subject},
                    {"body", request.message.body},
                    {"approvers", approvers},
                    {"deliveries", deliveries},
                    {"reached_someone", request.reached_someone()}});
  } else {
    ctx.out() << fmt::format("{}: emergency approval for {} requested from {} approver{}\n",
                             request.cr_id, request.environment, request.approvers.size(),
                             request.approvers.size() == 1 ? "" : "s");
    for (const Evidence& e : request.deliveries) {
      ctx.out() << fmt::format("  {} {}\n", e.passed == true ? "sent" : "FAILED",
                               EscapeForDisplay(e.detail));
    }
    ctx.out() << "\n" << request.message.body;
  }
  if (!request.reached_someone()) {
    // Recorded on the CR; the requestor must now phone them (§5.2 step 1). With --output json the
    // document above says so (one JSON document on stdout): only the exit status is set.
    if (ctx.json()) return Unavailable("");
    return Unavailable(fmt::format(
        "the emergency approval request for {} reached nobody through emergency.notify; phone "
        "the approvers: {}",
        request.cr_id, Join(phone_list, ", ")));
  }
  return Status::Ok();
}

Status RunShow(Context& ctx, const std::string& id, const std::string& format) {
  if (ctx.json() && !format.empty() && format != "json") {
    // --output json promises one JSON document on stdout.
    return InvalidArgument(fmt::format("--format {} conflicts with --output json", format));
  }
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(ChangeRequest cr, service.Get(id));
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  std::optional<Patch> patch = LoadPatch(ctx, cr);
  const Patch* patch_ptr = patch ? &*patch : nullptr;
  Timestamp now = ctx.clock().Now();
  std::string chosen = format.empty() ? (ctx.json() ? "json" : "text") : format;
  if (chosen == "json") {
    PrintJson(ctx, CrToJson(cr, patch_ptr, *config, now, ctx.zone()));
  } else if (chosen == "markdown") {
    ctx.out() << RenderCrMarkdown(cr, patch_ptr, *config, now, ctx.zone());
  } else {
    ctx.out() << RenderCrText(cr, patch_ptr, *config, now, ctx.zone());
  }
  return Status::Ok();
}

struct ListArgs {
  std::string state, system, classification;
  bool overdue = false;
  int limit = 0;
};

Status RunList(Context& ctx, const ListArgs& a) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ChangeRequestFilter filter;
  if (!a.state.empty()) {
    ASSIGN_OR_RETURN(CrState s, ParseCrState(a.state));
    filter.state = s;
  }
  if (!a.system.empty()) filter.system = a.system;
  if (!a.classification.empty()) {
    ASSIGN_OR_RETURN(Priority p, ParsePriority(a.classification));
    filter.classification = p;
  }
  if (a.limit > 0) filter.limit = a.limit;
  ASSIGN_OR_RETURN(auto rows, service.List(filter, a.overdue));
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : rows) list.push_back(CrSummaryJson(r));
    PrintJson(ctx, list);
    return Status::Ok();
  }
  for (const auto& r : rows) {
    ctx.out() << fmt::format("{:<8} {:<3} {:<11} {:<12} {}{}\n", r.id,
                             PriorityShort(r.classification), CrStateName(r.state),
                             EscapeForDisplay(r.system), EscapeForDisplay(r.title),
                             r.emergency ? "  [emergency]" : "");
  }
  if (rows.empty()) ctx.err() << "no change requests match\n";
  return Status::Ok();
}

Status RunChecklist(Context& ctx, const std::string& id, const std::string& env) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(ChecklistView view, service.ComputeChecklist(id, env));
  if (ctx.json()) {
    PrintJson(ctx, ChecklistToJson(view.cr, env, view.items));
    return Status::Ok();
  }
  ctx.out() << ChecklistText(view.cr, env, view.items);
  return Status::Ok();
}

Status RunGateCheck(Context& ctx, const std::string& id, const std::string& env, bool emergency) {
  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
  ASSIGN_OR_RETURN(GateReport report, service.CheckGates(id, env, emergency));
  if (ctx.json()) {
    PrintJson(ctx, GateReportToJson(report));
  } else {
    ctx.out() << GateReportText(report);
  }
  if (!report.passed) return RefusedByGate("");
  return Status::Ok();
}

struct ArchiveArgs {
  std::string id;
  std::vector<std::string> outputs;  // --output, repeatable: json | text | FILE
  bool force = false;
};

Status RunArchive(Context& ctx, const std::string& id, const std::string& file, bool force) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  CrArchiveService service(*config, *store, ctx.clock(), ctx.zone());
  ASSIGN_OR_RETURN(CrArchiveResult archived, service.Archive(id, file, force, actor));
  if (ctx.json()) {
    nlohmann::json files = nlohmann::json::array();
    for (const ArchiveMember& m : archived.members) {
      files.push_back({{"path", m.path}, {"sha256", m.sha256}, {"size", m.content.size()}});
    }
    PrintJson(ctx, {{"archive", archived.path.string()},
                    {"sha256", archived.sha256},
                    {"size", archived.size_bytes},
                    {"change_request", id},
                    {"files", files}});
    return Status::Ok();
  }
  ctx.out() << fmt::format("{}: archived to {} ({} files, {} bytes)\nsha256 {}\n", id,
                           EscapeForDisplay(archived.path.string()), archived.members.size(),
                           archived.size_bytes, archived.sha256);
  ctx.out() << fmt::format(
      "verify: mkdir {0}-archive && tar xzf {1} -C {0}-archive && cd {0}-archive && sha256sum -c "
      "SHA256SUMS\n",
      id, EscapeForDisplay(archived.path.string()));
  return Status::Ok();
}

// `cr archive` has its own --output (the archive file), which shadows the global one after the
// command: its values json and text choose the format as the global option does, any other
// value names the file ("./json" is a file called json).
Status RunArchiveCommand(Context& ctx, const ArchiveArgs& a) {
  std::optional<std::string> format;
  std::string file;
  for (const std::string& value : a.outputs) {
    if (value == "json" || value == "text") {
      format = value;
    } else if (!file.empty() && file != value) {
      return InvalidArgument(fmt::format("--output names two files, {} and {}: give one",
                                         EscapeForDisplay(file), EscapeForDisplay(value)));
    } else if (value.empty()) {
      return InvalidArgument("--output needs a file name, json or text");
    } else {
      file = value;
    }
  }
  if (!format || *format == ctx.options().output) return RunArchive(ctx, a.id, file, a.force);
  GlobalOptions options = ctx.options();
  options.output = *format;
  Context chosen(options, ctx.clock(), ctx.zone(), ctx.out(), ctx.err());
  Status status = RunArchive(chosen, a.id, file, a.force);
  if (status.ok() || status.message().empty()) return status;
  ReportError(chosen, status);  // in the format asked for
  return Status(status.code(), "");
}

// Registers "cr NAME CR --env ENV" commands whose body needs the service, the actor and the args.
template <typename Body>
void AddCrAction(CLI::App* cr, Action& slot, const std::string& name, const std::string& help,
                 bool needs_env, Body body) {
  auto* cmd = cr->add_subcommand(name, help);
  auto id = std::make_shared<std::string>();
  auto env = std::make_shared<std::string>();
  cmd->add_option("CR", *id, "change request id, e.g. CR-12")->required();
  if (needs_env) cmd->add_option("--env", *env, "environment, e.g. TEST")->required();
  body(cmd, id, env, slot);
}

}  // namespace

void AddCrCreateOptions(CLI::App* cmd, CrCreateArgs& a) {
  CrDraftText& d = a.draft;
  cmd->add_option("--patch", a.patch, "patch id, e.g. PATCH-3")->required();
  cmd->add_option("--system", d.system, "the system the patch is for")->required();
  cmd->add_option("--affected-system", d.affected, "another affected system (repeatable)");
  cmd->add_option("--type", d.type, "security, standard or infrastructure");
  cmd->add_option("--description", d.description, "detailed patch description and purpose");
  cmd->add_option("--implementation-plan", d.implementation_plan, "file: step-by-step procedure");
  cmd->add_option("--rollback-plan", d.rollback_plan, "file: detailed rollback procedure");
  cmd->add_option("--risk", d.risk, "impact and risk analysis");
  cmd->add_option("--test-plan", d.test_plan, "file: validation and test approach");
  cmd->add_option("--downtime", d.downtime, "expected downtime, e.g. 15m (0s for none)");
  cmd->add_option("--duration", d.duration, "expected duration of the deployment, e.g. 1h");
  cmd->add_option("--rollback-complexity", d.rollback_complexity, "low, medium or high");
}

Result<CrDraftText> ReadCrDraftFiles(CrDraftText draft) {
  const std::pair<const char*, std::string*> plans[] = {
      {"--implementation-plan", &draft.implementation_plan},
      {"--rollback-plan", &draft.rollback_plan},
      {"--test-plan", &draft.test_plan}};
  for (const auto& [flag, plan] : plans) {
    if (plan->empty()) continue;
    ASSIGN_OR_RETURN(*plan, ReadPlanFile(flag, *plan));
  }
  return draft;
}

void RegisterCrCommands(CLI::App& app, Action& slot) {
  auto* cr = app.add_subcommand("cr", "change requests: create, approve, sign off, show");
  cr->require_subcommand(1);
  {
    auto* cmd = cr->add_subcommand("create", "create a change request for a patch (playbook 2.2)");
    auto a = std::make_shared<CrCreateArgs>();
    AddCrCreateOptions(cmd, *a);
    OnRun(cmd, slot, [a](Context& ctx) { return RunCreate(ctx, *a); });
  }
  {
    auto* cmd = cr->add_subcommand(
        "edit", "change a CR's content; after submission approvals and sign-offs must be renewed");
    auto a = std::make_shared<EditArgs>();
    cmd->add_option("CR", a->id, "change request id, e.g. CR-12")->required();
    cmd->add_option("--description", a->description, "detailed patch description and purpose");
    cmd->add_option("--implementation-plan", a->implementation_plan,
                    "file: step-by-step procedure");
    cmd->add_option("--rollback-plan", a->rollback_plan, "file: detailed rollback procedure");
    cmd->add_option("--risk", a->risk, "impact and risk analysis");
    cmd->add_option("--test-plan", a->test_plan, "file: validation and test approach");
    a->affected_option = cmd->add_option("--affected-system", a->affected,
                                         "the affected systems (repeatable; replaces the list)");
    cmd->add_option("--type", a->type, "security, standard or infrastructure");
    cmd->add_option("--downtime", a->downtime, "expected downtime, e.g. 15m (0s for none)");
    cmd->add_option("--duration", a->duration, "expected duration of the deployment, e.g. 1h");
    cmd->add_option("--rollback-complexity", a->rollback_complexity, "low, medium or high");
    OnRun(cmd, slot, [a](Context& ctx) { return RunEdit(ctx, *a); });
  }
  AddCrAction(
      cr, slot, "justify",
      "record the emergency justification (playbook 5.1 step 1); the CVSS score and the 5.1 "
      "criteria come from the patch",
      false, [](CLI::App* cmd, auto id, auto, Action& s) {
        auto draft = std::make_shared<JustificationDraft>();
        cmd->add_option("--incident", draft->incident,
                        "the security incident or vulnerability, briefly")
            ->required();
        cmd->add_option("--why", draft->why_not_normal, "why the normal process cannot be followed")
            ->required();
        cmd->add_option("--cvss-source", draft->cvss_source,
                        "where the CVSS score comes from (default: the patch's advisory or "
                        "vector)");
        OnRun(cmd, s, [id, draft](Context& ctx) -> Status {
          RETURN_IF_ERROR(CheckUtf8("--incident", draft->incident));
          RETURN_IF_ERROR(CheckUtf8("--why", draft->why_not_normal));
          RETURN_IF_ERROR(CheckUtf8("--cvss-source", draft->cvss_source));
          ASSIGN_OR_RETURN(auto service, MakeService(ctx));
          ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
          ASSIGN_OR_RETURN(ChangeRequest cr, service.Justify(*id, *draft, actor));
          return PrintChanged(
              ctx, cr, fmt::format("emergency justification recorded, revision {}", cr.revision));
        });
      });
  AddCrAction(
      cr, slot, "request-approval",
      "send the EMERGENCY PATCH APPROVAL REQUEST to every emergency approver at once "
      "(playbook 5.2 steps 1-2)",
      false, [](CLI::App* cmd, auto id, auto, Action& s) {
        auto env = std::make_shared<std::string>();
        cmd->add_option("--env", *env, "the environment to approve (default: the last, PROD)");
        OnRun(cmd, s, [id, env](Context& ctx) { return RunRequestApproval(ctx, *id, *env); });
      });
  AddCrAction(cr, slot, "attach", "attach a document (stored by SHA-256)", false,
              [](CLI::App* cmd, auto id, auto, Action& s) {
                auto kind = std::make_shared<std::string>();
                auto file = std::make_shared<std::string>();
                cmd->add_option("--kind", *kind,
                                "release-notes, security-impact-assessment, rollback-procedure, "
                                "test-specification, ...")
                    ->required();
                cmd->add_option("FILE", *file, "the document")->required();
                OnRun(cmd, s, [id, kind, file](Context& ctx) -> Status {
                  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
                  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
                  ASSIGN_OR_RETURN(ChangeRequest cr, service.Attach(*id, *kind, *file, actor));
                  return PrintChanged(
                      ctx, cr, fmt::format("attached {} '{}'", *kind, EscapeForDisplay(*file)));
                });
              });
  AddCrAction(cr, slot, "submit", "submit for approval", false,
              [](CLI::App* cmd, auto id, auto, Action& s) {
                OnRun(cmd, s, [id](Context& ctx) -> Status {
                  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
                  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
                  ASSIGN_OR_RETURN(ChangeRequest cr, service.Submit(*id, actor));
                  return PrintChanged(ctx, cr, "submitted for approval");
                });
              });
  AddCrAction(cr, slot, "schedule", "set the planned start in an environment", true,
              [](CLI::App* cmd, auto id, auto env, Action& s) {
                auto at = std::make_shared<std::string>();
                cmd->add_option("--at", *at, "RFC 3339, or 'YYYY-MM-DD HH:MM' in the local zone")
                    ->required();
                OnRun(cmd, s, [id, env, at](Context& ctx) -> Status {
                  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
                  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
                  ASSIGN_OR_RETURN(Timestamp t, ParseTime(*at, ctx.zone()));
                  // The change calendar (docs/calendar.md): conflicts warn; an overlap or a start
                  // outside the windows refuses where the environment requires a window.
                  ASSIGN_OR_RETURN(std::vector<CalendarConflict> conflicts,
                                   CheckScheduleConflicts(ctx, *id, *env, t));
                  ASSIGN_OR_RETURN(ChangeRequest cr, service.Schedule(*id, *env, t, actor));
                  ASSIGN_OR_RETURN(cr, SendDueNotices(ctx, cr, actor));
                  return PrintScheduled(ctx, cr, t, *env, conflicts);
                });
              });
  AddCrAction(
      cr, slot, "approve", "approve for an environment (or record a verbal approval)", true,
      [](CLI::App* cmd, auto id, auto env, Action& s) {
        auto verbal = std::make_shared<bool>(false);
        auto approver = std::make_shared<std::string>();
        auto conditions = std::make_shared<std::string>();
        cmd->add_flag("--verbal", *verbal,
                      "record an emergency verbal approval given by --approver");
        cmd->add_option("--approver", *approver, "who gave the verbal approval");
        cmd->add_option("--conditions", *conditions, "conditions of the verbal approval");
        OnRun(cmd, s, [id, env, verbal, approver, conditions](Context& ctx) -> Status {
          RETURN_IF_ERROR(CheckUtf8("--conditions", *conditions));
          ASSIGN_OR_RETURN(auto service, MakeService(ctx));
          ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
          if (*verbal) {
            if (approver->empty()) return InvalidArgument("--verbal needs --approver PERSON");
            ASSIGN_OR_RETURN(ChangeRequest cr, service.RecordVerbalApproval(*id, *env, *approver,
                                                                            *conditions, actor));
            return PrintChanged(ctx, cr,
                                fmt::format("verbal approval by {} recorded for {}; written "
                                            "confirmation due within 24h",
                                            *approver, *env));
          }
          if (!approver->empty() || !conditions->empty()) {
            return InvalidArgument("--approver and --conditions go with --verbal");
          }
          ASSIGN_OR_RETURN(ChangeRequest cr, service.Approve(*id, *env, actor));
          return PrintChanged(ctx, cr, fmt::format("approved for {} by {}", *env, actor));
        });
      });
  AddCrAction(cr, slot, "confirm", "confirm your verbal approval in writing", true,
              [](CLI::App* cmd, auto id, auto env, Action& s) {
                OnRun(cmd, s, [id, env](Context& ctx) -> Status {
                  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
                  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
                  ASSIGN_OR_RETURN(ChangeRequest cr, service.Confirm(*id, *env, actor));
                  return PrintChanged(
                      ctx, cr, fmt::format("verbal approval for {} confirmed by {}", *env, actor));
                });
              });
  AddCrAction(cr, slot, "reject", "reject for an environment", true,
              [](CLI::App* cmd, auto id, auto env, Action& s) {
                auto reason = std::make_shared<std::string>();
                cmd->add_option("--reason", *reason, "why")->required();
                OnRun(cmd, s, [id, env, reason](Context& ctx) -> Status {
                  RETURN_IF_ERROR(CheckUtf8("--reason", *reason));
                  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
                  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
                  ASSIGN_OR_RETURN(ChangeRequest cr, service.Reject(*id, *env, *reason, actor));
                  return PrintChanged(ctx, cr, fmt::format("rejected for {} by {}", *env, actor));
                });
              });
  AddCrAction(
      cr, slot, "signoff", "sign off (dev-lead, test-manager, business-analyst, uat, cab)", true,
      [](CLI::App* cmd, auto id, auto env, Action& s) {
        auto kind = std::make_shared<std::string>();
        cmd->add_option("--kind", *kind, "dev-lead, test-manager, business-analyst, uat, cab")
            ->required();
        OnRun(cmd, s, [id, env, kind](Context& ctx) -> Status {
          ASSIGN_OR_RETURN(auto service, MakeService(ctx));
          ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
          ASSIGN_OR_RETURN(ChangeRequest cr, service.Signoff(*id, *env, *kind, actor));
          return PrintChanged(ctx, cr, fmt::format("{} sign-off for {} by {}", *kind, *env, actor));
        });
      });
  AddCrAction(
      cr, slot, "evidence",
      "record deployment evidence by hand (the engine records it when it runs; audited)", true,
      [](CLI::App* cmd, auto id, auto env, Action& s) {
        struct EvidenceArgs {
          std::string kind, detail;
          bool passed = false, failed = false;
          std::optional<double> value;
          std::vector<std::string> fields;
        };
        auto a = std::make_shared<EvidenceArgs>();
        cmd->add_option("--kind", a->kind,
                        "deployment, smoke, regression, backup, rollback-tested, "
                        "maintenance-window-confirmed, risk-acceptance, ...")
            ->required();
        cmd->add_flag("--passed", a->passed, "the check passed");
        cmd->add_flag("--failed", a->failed, "the check failed");
        cmd->add_option("--value", a->value, "a figure: pass rate %, seconds, bytes");
        cmd->add_option("--detail", a->detail, "what was observed");
        cmd->add_option("--field", a->fields, "KEY=VALUE (repeatable), e.g. location=/backup/x");
        OnRun(cmd, s, [id, env, a](Context& ctx) -> Status {
          if (a->passed && a->failed)
            return InvalidArgument("--passed and --failed exclude each other");
          RETURN_IF_ERROR(CheckUtf8("--detail", a->detail));
          for (const auto& f : a->fields) RETURN_IF_ERROR(CheckUtf8("--field", f));
          ASSIGN_OR_RETURN(auto service, MakeService(ctx));
          ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
          Evidence e;
          e.environment = *env;
          e.kind = a->kind;
          if (a->passed) e.passed = true;
          if (a->failed) e.passed = false;
          e.value = a->value;
          e.detail = a->detail;
          for (const auto& f : a->fields) {
            auto eq = f.find('=');
            if (eq == std::string::npos || eq == 0) {
              return InvalidArgument(
                  fmt::format("--field '{}': expected KEY=VALUE", EscapeForDisplay(f)));
            }
            e.fields[f.substr(0, eq)] = f.substr(eq + 1);
          }
          ASSIGN_OR_RETURN(ChangeRequest cr, service.RecordEvidence(*id, e, actor));
          return PrintChanged(ctx, cr, fmt::format("{} evidence recorded for {}", a->kind, *env));
        });
      });
  AddCrAction(cr, slot, "show", "the CR as the playbook's Appendix B", false,
              [](CLI::App* cmd, auto id, auto, Action& s) {
                auto format = std::make_shared<std::string>();
                cmd->add_option("--format", *format, "text, markdown or json")
                    ->check(CLI::IsMember({"text", "markdown", "json"}));
                OnRun(cmd, s, [id, format](Context& ctx) { return RunShow(ctx, *id, *format); });
              });
  {
    auto* cmd = cr->add_subcommand("list", "list change requests");
    auto a = std::make_shared<ListArgs>();
    cmd->add_option("--state", a->state,
                    "draft, submitted, in-progress, completed, closed, rejected, cancelled");
    cmd->add_option("--system", a->system, "only this system");
    cmd->add_option("--classification", a->classification, "P1, P2, P3 or P4");
    cmd->add_flag("--overdue", a->overdue, "only CRs with an overdue written confirmation");
    cmd->add_option("--limit", a->limit, "at most this many")->check(CLI::PositiveNumber);
    OnRun(cmd, slot, [a](Context& ctx) { return RunList(ctx, *a); });
  }
  AddCrAction(cr, slot, "checklist", "the playbook's section 8 checklists from recorded evidence",
              true, [](CLI::App* cmd, auto id, auto env, Action& s) {
                OnRun(cmd, s, [id, env](Context& ctx) { return RunChecklist(ctx, *id, *env); });
              });
  {
    auto* cmd = cr->add_subcommand(
        "archive",
        "write the CR's evidence archive (playbook 4.3 step 3): logs, test results, monitoring, "
        "communications, approvals, audit events, with a SHA256SUMS manifest");
    auto a = std::make_shared<ArchiveArgs>();
    cmd->add_option("CR", a->id, "change request id, e.g. CR-12")->required();
    cmd->add_option("--output", a->outputs,
                    "the archive file (default CR-N-archive.tar.gz here); json or text: the "
                    "output format")
        ->allow_extra_args(false);
    cmd->add_flag("--force", a->force, "replace an existing archive file");
    OnRun(cmd, slot, [a](Context& ctx) { return RunArchiveCommand(ctx, *a); });
  }
  AddCrAction(cr, slot, "cancel", "withdraw the CR", false,
              [](CLI::App* cmd, auto id, auto, Action& s) {
                auto reason = std::make_shared<std::string>();
                cmd->add_option("--reason", *reason, "why")->required();
                OnRun(cmd, s, [id, reason](Context& ctx) -> Status {
                  RETURN_IF_ERROR(CheckUtf8("--reason", *reason));
                  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
                  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
                  ASSIGN_OR_RETURN(ChangeRequest cr, service.Cancel(*id, *reason, actor));
                  return PrintChanged(ctx, cr, "cancelled");
                });
              });
  AddCrAction(cr, slot, "close", "close a completed CR", false,
              [](CLI::App* cmd, auto id, auto, Action& s) {
                OnRun(cmd, s, [id](Context& ctx) -> Status {
                  ASSIGN_OR_RETURN(auto service, MakeService(ctx));
                  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
                  ASSIGN_OR_RETURN(ChangeRequest cr, service.Close(*id, actor));
                  return PrintChanged(ctx, cr, "closed");
                });
              });
}

void RegisterGateCommands(CLI::App& app, Action& slot) {
  auto* gate = app.add_subcommand("gate", "promotion gates");
  gate->require_subcommand(1);
  auto* cmd = gate->add_subcommand("check", "every gate for starting ENV; exit 4 if any fails");
  auto id = std::make_shared<std::string>();
  auto env = std::make_shared<std::string>();
  auto emergency = std::make_shared<bool>(false);
  cmd->add_option("CR", *id, "change request id")->required();
  cmd->add_option("--env", *env, "environment")->required();
  cmd->add_flag("--emergency", *emergency, "judge by the emergency path (playbook 5.3)");
  OnRun(cmd, slot,
        [id, env, emergency](Context& ctx) { return RunGateCheck(ctx, *id, *env, *emergency); });
}

}  // namespace rollgate::cli
