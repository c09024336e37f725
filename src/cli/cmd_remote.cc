// Remote mode (--server URL or $ROLLGATE_SERVER, with $ROLLGATE_TOKEN): the commands a person
// needs away from the server's machine, through the HTTP API. The token's person acts; the
// server enforces the roles. `--output json` prints the API's documents, which are the local
// commands' documents; text prints a summary.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/remote_client.h"
#include "common/base64.h"
#include "common/strings.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

std::string Text(const json& document, const char* key) {
  auto it = document.find(key);
  if (it == document.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Runs `body` with the client, printing what it returns: the document in JSON mode, else the
// text `summary` makes of it.
using RemoteBody = std::function<Result<json>(const RemoteClient&)>;
using Summary = std::function<void(Context&, const json&)>;

// The client for --server (or $ROLLGATE_SERVER), $ROLLGATE_TOKEN and $ROLLGATE_SERVER_CA.
Result<RemoteClient> ClientFor(const std::string& server) {
  const char* token = std::getenv("ROLLGATE_TOKEN");
  const char* ca = std::getenv("ROLLGATE_SERVER_CA");
  return RemoteClient::Create(server, token ? token : "", ca ? ca : "");
}

Command Remote(std::shared_ptr<std::string> server, RemoteBody body, Summary summary) {
  return [server, body = std::move(body), summary = std::move(summary)](Context& ctx) -> Status {
    ASSIGN_OR_RETURN(RemoteClient client, ClientFor(*server));
    ASSIGN_OR_RETURN(json document, body(client));
    if (ctx.json()) {
      PrintJson(ctx, document);
    } else {
      summary(ctx, document);
    }
    return Status::Ok();
  };
}

void PrintCr(Context& ctx, const json& cr) {
  ctx.out() << fmt::format("{}  {}  {} {}  {}\n", Text(cr, "id"), Text(cr, "state"),
                           Text(cr, "classification"), Text(cr, "system"),
                           EscapeForDisplay(Text(cr, "title")));
  if (cr.contains("approvals")) {
    for (const json& a : cr["approvals"]) {
      ctx.out() << fmt::format("  approved for {} by {}\n", Text(a, "environment"),
                               Text(a, "approver"));
    }
  }
  if (cr.contains("evidence")) {
    for (const json& e : cr["evidence"]) {
      std::string passed = e.contains("passed") && e["passed"].is_boolean()
                               ? (e["passed"].get<bool>() ? "passed" : "FAILED")
                               : "recorded";
      ctx.out() << fmt::format("  {} {} {}: {}\n", Text(e, "environment"), Text(e, "kind"), passed,
                               EscapeForDisplay(Text(e, "detail")));
    }
  }
}

void PrintPatch(Context& ctx, const json& patch) {
  ctx.out() << fmt::format("{}  {}{}  {}\n", Text(patch, "id"), Text(patch, "classification"),
                           patch.value("emergency", false) ? " emergency" : "",
                           EscapeForDisplay(Text(patch, "title")));
}

void PrintRun(Context& ctx, const json& run) {
  ctx.out() << fmt::format("{}  {}  {} {} {}  by {}\n", Text(run, "id"), Text(run, "state"),
                           Text(run, "change_request"), Text(run, "system"),
                           Text(run, "environment"), Text(run, "created_by"));
  if (run.contains("steps")) {
    for (const json& s : run["steps"]) {
      ctx.out() << fmt::format("  {:<12} {:<24} {}\n", Text(s, "host"), Text(s, "step"),
                               Text(s, "state"));
    }
  }
  if (!Text(run, "message").empty()) {
    ctx.out() << "  " << EscapeForDisplay(Text(run, "message")) << "\n";
  }
}

// Every item of a paginated list, following `next`, at most `limit` (0: all).
Result<json> AllPages(const RemoteClient& client, const std::string& path, Query query,
                      size_t limit) {
  json items = json::array();
  int offset = 0;
  while (true) {
    Query page = query;
    page.emplace_back("limit", "500");
    page.emplace_back("offset", std::to_string(offset));
    ASSIGN_OR_RETURN(json document, client.Get(path, page));
    for (const json& item : document["items"]) {
      items.push_back(item);
      if (limit > 0 && items.size() >= limit) return items;
    }
    if (document["next"].is_null() || document["items"].empty()) return items;
    offset += static_cast<int>(document["items"].size());
  }
}

// Follows a run until it ends, printing each step's new state as text; the run at the end. The
// run failing is exit 1, as for `deploy`.
Status Follow(Context& ctx, const RemoteClient& client, const std::string& id) {
  std::map<std::string, std::string> seen;
  json run;
  while (true) {
    ASSIGN_OR_RETURN(run, client.Get("/api/v1/runs/" + RemoteClient::Segment(id)));
    if (!ctx.json()) {
      for (const json& s : run["steps"]) {
        std::string key = Text(s, "host") + " " + Text(s, "step");
        std::string state = Text(s, "state");
        if (seen[key] != state) {
          seen[key] = state;
          ctx.out() << fmt::format("  {:<12} {:<24} {}\n", Text(s, "host"), Text(s, "step"), state);
          ctx.out().flush();
        }
      }
    }
    std::string state = Text(run, "state");
    if (state != "running" && state != "pending") break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (ctx.json()) {
    PrintJson(ctx, run);
  } else {
    ctx.out() << fmt::format(
        "{} {}{}\n", Text(run, "id"), Text(run, "state"),
        Text(run, "message").empty() ? "" : ": " + EscapeForDisplay(Text(run, "message")));
  }
  return Text(run, "state") == "succeeded" ? Status::Ok() : Failed("");
}

}  // namespace

const std::set<std::string>& RemoteCommandNames() {
  static const std::set<std::string> names = {"whoami", "patch",    "cr",  "gate", "deploy",
                                              "decide", "rollback", "run", "audit"};
  return names;
}

void RegisterRemoteCommands(CLI::App& app, Action& slot, std::shared_ptr<std::string> server) {
  auto* whoami = app.add_subcommand("whoami", "the token's person and roles");
  OnRun(whoami, slot,
        Remote(
            server, [](const RemoteClient& c) { return c.Get("/api/v1/whoami"); },
            [](Context& ctx, const json& me) {
              ctx.out() << fmt::format("{} ({}): {}{}\n", Text(me, "person"), Text(me, "full_name"),
                                       Join(me.value("roles", std::vector<std::string>{}), ", "),
                                       me.value("read_only", false) ? " (read only)" : "");
            }));

  auto* patch = app.add_subcommand("patch", "patches on the server: add, import, show, list");
  patch->require_subcommand(1);
  {
    auto* cmd = patch->add_subcommand("add", "record a patch and classify it (playbook 2.1)");
    struct Args {
      std::string title, source, version, cvss, package, sha256, signature, release_notes;
      std::vector<std::string> cves, refs, criteria;
      bool exploited = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("--title", a->title, "what the patch is")->required();
    cmd->add_option("--source", a->source,
                    "vendor-advisory, security-team, development-team or change-management")
        ->required();
    cmd->add_option("--cve", a->cves, "CVE id (repeatable)");
    cmd->add_option("--ref", a->refs, "vendor reference: KB article, URL (repeatable)");
    cmd->add_option("--version", a->version, "the version the patch brings");
    cmd->add_option("--cvss", a->cvss, "CVSS 3.1 or 4.0 vector");
    cmd->add_flag("--exploited", a->exploited, "active exploitation is confirmed");
    cmd->add_option("--criterion", a->criteria, "declared emergency criterion (repeatable)");
    cmd->add_option("--package", a->package,
                    "the package's https:// URL, which the server downloads (with --sha256)");
    cmd->add_option("--sha256", a->sha256, "the package's expected SHA-256");
    cmd->add_option("--signature", a->signature, "file: minisign signature of the package");
    cmd->add_option("--release-notes-file", a->release_notes, "file: vendor release notes");
    OnRun(cmd, slot, [server, a](Context& ctx) -> Status {
      if (!a->package.empty() && !StartsWith(a->package, "https://") &&
          !StartsWith(a->package, "http://")) {
        return InvalidArgument(
            fmt::format("--package {}: in remote mode the package is a URL the server "
                        "downloads; a file here would have to be on the server",
                        EscapeForDisplay(a->package)));
      }
      json body = {{"title", a->title},       {"source", a->source},
                   {"cves", a->cves},         {"references", a->refs},
                   {"version", a->version},   {"exploited", a->exploited},
                   {"criteria", a->criteria}, {"cvss_vectors", json::array()}};
      if (!a->cvss.empty()) body["cvss_vectors"].push_back(a->cvss);
      if (!a->package.empty()) body["package_url"] = a->package;
      if (!a->sha256.empty()) body["package_sha256"] = a->sha256;
      if (!a->signature.empty()) {
        ASSIGN_OR_RETURN(body["signature"], ReadInputFile("--signature", a->signature, 4096, true));
      }
      if (!a->release_notes.empty()) {
        ASSIGN_OR_RETURN(body["release_notes"],
                         ReadInputFile("--release-notes-file", a->release_notes, 64 * 1024, true));
      }
      return Remote(
          server, [&](const RemoteClient& c) { return c.Post("/api/v1/patches", body); },
          PrintPatch)(ctx);
    });
  }
  {
    auto* cmd = patch->add_subcommand("import", "import an OSV or CSAF 2.0 advisory as a patch");
    auto file = std::make_shared<std::string>();
    cmd->add_option("FILE", *file, "the advisory (JSON)")->required();
    OnRun(cmd, slot, [server, file](Context& ctx) -> Status {
      ASSIGN_OR_RETURN(std::string text, ReadInputFile("FILE", *file, 8 << 20, true));
      json advisory = json::parse(text, nullptr, false);
      if (advisory.is_discarded()) {
        return InvalidArgument(fmt::format("{}: not JSON", EscapeForDisplay(*file)));
      }
      return Remote(
          server, [&](const RemoteClient& c) { return c.Post("/api/v1/advisories", advisory); },
          [](Context& ctx, const json& p) {
            PrintPatch(ctx, p);
            for (const json& t : p.value("triggers", json::array())) {
              ctx.out() << fmt::format("Trigger: {} in {} ({}, {}): {}\n",
                                       Text(t, "change_request"), Text(t, "environment"),
                                       Text(t, "kind"), Text(t, "action"),
                                       EscapeForDisplay(Text(t, "detail")));
            }
            for (const json& r : p.value("responses", json::array())) {
              if (!Text(r, "run").empty()) {
                ctx.out() << fmt::format("  {} rolled back in {}: {}\n", Text(r, "change_request"),
                                         Text(r, "environment"), Text(r, "run"));
              }
            }
          })(ctx);
    });
  }
  {
    auto* cmd = patch->add_subcommand("show", "one patch");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "patch id, e.g. PATCH-3")->required();
    OnRun(cmd, slot,
          Remote(
              server,
              [id](const RemoteClient& c) {
                return c.Get("/api/v1/patches/" + RemoteClient::Segment(*id));
              },
              PrintPatch));
  }
  {
    auto* cmd = patch->add_subcommand("list", "every patch");
    OnRun(cmd, slot,
          Remote(
              server, [](const RemoteClient& c) { return AllPages(c, "/api/v1/patches", {}, 0); },
              [](Context& ctx, const json& items) {
                for (const json& item : items) PrintPatch(ctx, item);
              }));
  }

  auto* cr = app.add_subcommand("cr", "change requests on the server");
  cr->require_subcommand(1);
  {
    auto* cmd = cr->add_subcommand("list", "list change requests");
    auto state = std::make_shared<std::string>(), system = std::make_shared<std::string>();
    auto limit = std::make_shared<size_t>(0);
    cmd->add_option("--state", *state, "draft, submitted, in-progress, completed, closed, ...");
    cmd->add_option("--system", *system, "only this system");
    cmd->add_option("--limit", *limit, "at most this many")->check(CLI::PositiveNumber);
    OnRun(cmd, slot,
          Remote(
              server,
              [=](const RemoteClient& c) {
                Query query;
                if (!state->empty()) query.emplace_back("state", *state);
                if (!system->empty()) query.emplace_back("system", *system);
                return AllPages(c, "/api/v1/crs", query, *limit);
              },
              [](Context& ctx, const json& items) {
                for (const json& item : items) PrintCr(ctx, item);
              }));
  }
  auto id_command = [&](CLI::App* parent, const char* name, const char* help) {
    auto* cmd = parent->add_subcommand(name, help);
    auto id = std::make_shared<std::string>();
    cmd->add_option("CR", *id, "change request id, e.g. CR-12")->required();
    return std::make_pair(cmd, id);
  };
  {
    auto [cmd, id] = id_command(cr, "show", "one change request");
    OnRun(cmd, slot,
          Remote(
              server,
              [id](const RemoteClient& c) {
                return c.Get("/api/v1/crs/" + RemoteClient::Segment(*id));
              },
              PrintCr));
  }
  {
    auto [cmd, id] = id_command(cr, "submit", "submit for approval");
    OnRun(cmd, slot,
          Remote(
              server,
              [id](const RemoteClient& c) {
                return c.Post("/api/v1/crs/" + RemoteClient::Segment(*id) + "/submit",
                              json::object());
              },
              PrintCr));
  }
  // `cr NAME CR --env ENV [--FIELD VALUE ...]`: a POST to the CR's `route` with the environment
  // and each field (the option's name is the body's field).
  auto env_action = [&](const char* name, const char* help, const char* route,
                        std::vector<std::pair<std::string, std::string>> fields) {
    auto [cmd, id] = id_command(cr, name, help);
    auto env = std::make_shared<std::string>();
    cmd->add_option("--env", *env, "environment, e.g. TEST")->required();
    auto values = std::make_shared<std::map<std::string, std::string>>();
    for (const auto& [field, field_help] : fields) {
      cmd->add_option("--" + field, (*values)[field], field_help)->required();
    }
    OnRun(cmd, slot,
          Remote(
              server,
              [id, env, values, route](const RemoteClient& c) {
                json body = {{"environment", *env}};
                for (const auto& [field, value] : *values) body[field] = value;
                return c.Post("/api/v1/crs/" + RemoteClient::Segment(*id) + "/" + route, body);
              },
              PrintCr));
  };
  env_action("approve", "approve for an environment", "approvals", {});
  env_action("reject", "reject for an environment", "rejections", {{"reason", "why"}});
  env_action("signoff", "sign off for an environment", "signoffs",
             {{"kind", "dev-lead, test-manager, business-analyst, uat, cab"}});

  {
    auto* cmd = cr->add_subcommand("create", "create a change request for a patch (playbook 2.2)");
    auto a = std::make_shared<CrCreateArgs>();
    AddCrCreateOptions(cmd, *a);
    OnRun(cmd, slot, [server, a](Context& ctx) -> Status {
      // The plans are read here and sent as text.
      ASSIGN_OR_RETURN(CrDraftText d, ReadCrDraftFiles(a->draft));
      json body = {{"patch", a->patch}, {"system", d.system}, {"affected_systems", d.affected}};
      const std::pair<const char*, const std::string*> texts[] = {
          {"type", &d.type},
          {"description", &d.description},
          {"implementation_plan", &d.implementation_plan},
          {"rollback_plan", &d.rollback_plan},
          {"risk", &d.risk},
          {"test_plan", &d.test_plan},
          {"downtime", &d.downtime},
          {"duration", &d.duration},
          {"rollback_complexity", &d.rollback_complexity}};
      for (const auto& [field, value] : texts) {
        if (!value->empty()) body[field] = *value;
      }
      return Remote(
          server, [&](const RemoteClient& c) { return c.Post("/api/v1/crs", body); }, PrintCr)(ctx);
    });
  }
  {
    auto [cmd, id] = id_command(cr, "attach", "attach a document (stored by SHA-256)");
    auto kind = std::make_shared<std::string>(), file = std::make_shared<std::string>();
    cmd->add_option("--kind", *kind,
                    "release-notes, security-impact-assessment, rollback-procedure, "
                    "test-specification, ...")
        ->required();
    cmd->add_option("FILE", *file, "the document")->required();
    OnRun(cmd, slot, [server, id, kind, file](Context& ctx) -> Status {
      ASSIGN_OR_RETURN(std::string content, ReadInputFile("FILE", *file, 16 << 20, false));
      json body = {{"kind", *kind},
                   {"file_name", std::filesystem::path(*file).filename().string()},
                   {"content_base64", EncodeBase64(content)}};
      return Remote(
          server,
          [&](const RemoteClient& c) {
            return c.Post("/api/v1/crs/" + RemoteClient::Segment(*id) + "/attachments", body);
          },
          PrintCr)(ctx);
    });
  }
  {
    auto [cmd, id] = id_command(cr, "schedule", "set the planned start in an environment");
    auto env = std::make_shared<std::string>(), at = std::make_shared<std::string>();
    cmd->add_option("--env", *env, "environment, e.g. TEST")->required();
    cmd->add_option("--at", *at, "RFC 3339, or 'YYYY-MM-DD HH:MM' in the server's zone")
        ->required();
    OnRun(cmd, slot,
          Remote(
              server,
              [id, env, at](const RemoteClient& c) {
                return c.Post("/api/v1/crs/" + RemoteClient::Segment(*id) + "/schedule",
                              {{"environment", *env}, {"at", *at}});
              },
              [](Context& ctx, const json& cr) {
                PrintCr(ctx, cr);
                for (const json& c : cr.value("conflicts", json::array())) {
                  ctx.err() << "rollgate: warning: " << EscapeForDisplay(Text(c, "detail")) << "\n";
                }
              }));
  }

  auto* gate = app.add_subcommand("gate", "promotion gates");
  gate->require_subcommand(1);
  {
    auto [cmd, id] = id_command(gate, "check", "every gate for starting ENV; exit 4 if any fails");
    auto env = std::make_shared<std::string>();
    auto emergency = std::make_shared<bool>(false);
    cmd->add_option("--env", *env, "environment")->required();
    cmd->add_flag("--emergency", *emergency, "judge by the emergency path (playbook 5.3)");
    OnRun(cmd, slot, [server, id, env, emergency](Context& ctx) -> Status {
      json report;
      Status status = Remote(
          server,
          [&](const RemoteClient& c) -> Result<json> {
            Query query = {{"environment", *env}};
            if (*emergency) query.emplace_back("emergency", "true");
            ASSIGN_OR_RETURN(report,
                             c.Get("/api/v1/crs/" + RemoteClient::Segment(*id) + "/gates", query));
            return report;
          },
          [](Context& ctx, const json& r) {
            for (const json& g : r.value("gates", json::array())) {
              ctx.out() << fmt::format("{} {}\n", g.value("passed", false) ? "PASS" : "FAIL",
                                       Text(g, "name"));
              for (const json& missing : g.value("missing", json::array())) {
                ctx.out() << "  missing: "
                          << EscapeForDisplay(missing.is_string() ? missing.get<std::string>()
                                                                  : missing.dump())
                          << "\n";
              }
            }
          })(ctx);
      RETURN_IF_ERROR(status);
      return report.value("passed", false) ? Status::Ok() : RefusedByGate("");
    });
  }

  {
    auto* cmd =
        app.add_subcommand("deploy", "deploy a CR to an environment, executed by the server");
    auto id = std::make_shared<std::string>(), env = std::make_shared<std::string>();
    auto emergency = std::make_shared<bool>(false), no_wait = std::make_shared<bool>(false);
    cmd->add_option("CR", *id, "change request id, e.g. CR-12")->required();
    cmd->add_option("--env", *env, "environment, e.g. TEST")->required();
    cmd->add_flag("--emergency", *emergency, "the emergency path (playbook 5)");
    cmd->add_flag("--no-wait", *no_wait, "print the run and return; do not follow it");
    OnRun(cmd, slot, [server, id, env, emergency, no_wait](Context& ctx) -> Status {
      ASSIGN_OR_RETURN(RemoteClient client, ClientFor(*server));
      ASSIGN_OR_RETURN(json run, client.Post("/api/v1/runs", {{"change_request", *id},
                                                              {"environment", *env},
                                                              {"emergency", *emergency}}));
      std::string run_id = Text(run, "id");
      if (*no_wait) {
        if (ctx.json()) {
          PrintJson(ctx, run);
        } else {
          ctx.out() << fmt::format("{} started on {}\n", run_id, client.server());
        }
        return Status::Ok();
      }
      if (!ctx.json()) ctx.err() << fmt::format("{} started on {}\n", run_id, client.server());
      return Follow(ctx, client, run_id);
    });
  }
  {
    auto* cmd =
        app.add_subcommand("rollback", "roll back a CR's deployment, executed by the server");
    auto id = std::make_shared<std::string>(), env = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    cmd->add_option("CR", *id, "change request id, e.g. CR-12")->required();
    cmd->add_option("--env", *env, "environment, e.g. PROD")->required();
    cmd->add_option("--reason", *reason, "why (recorded)")->required();
    OnRun(cmd, slot, [server, id, env, reason](Context& ctx) -> Status {
      ASSIGN_OR_RETURN(RemoteClient client, ClientFor(*server));
      // The newest run of the CR in that environment names the deployment to the server.
      ASSIGN_OR_RETURN(json runs, AllPages(client, "/api/v1/runs", {}, 0));
      std::string deployment;
      for (const json& r : runs) {
        if (Text(r, "change_request") == *id && Text(r, "environment") == *env) {
          deployment = Text(r, "id");
          break;
        }
      }
      if (deployment.empty()) {
        return NotFound(fmt::format("{} has no run in {} on {}", EscapeForDisplay(*id),
                                    EscapeForDisplay(*env), client.server()));
      }
      ASSIGN_OR_RETURN(json answer, client.Post("/api/v1/runs/" +
                                                    RemoteClient::Segment(deployment) + "/rollback",
                                                {{"reason", *reason}}));
      if (answer["id"].is_null()) {
        if (ctx.json()) PrintJson(ctx, answer);
        return RefusedByGate(Text(answer, "message"));
      }
      if (!ctx.json()) {
        ctx.err() << fmt::format("{} (rollback) started on {}\n", Text(answer, "id"),
                                 client.server());
      }
      return Follow(ctx, client, Text(answer, "id"));
    });
  }

  {
    auto* cmd = app.add_subcommand(
        "decide", "decide a rollback trigger that waits for a person (playbook 6.1, evaluate)");
    auto id = std::make_shared<std::string>(), env = std::make_shared<std::string>();
    auto decision = std::make_shared<std::string>(), reason = std::make_shared<std::string>();
    cmd->add_option("CR", *id, "change request id, e.g. CR-12")->required();
    cmd->add_option("--env", *env, "environment, e.g. PROD")->required();
    cmd->add_option("DECISION", *decision, "rollback or continue")
        ->required()
        ->check(CLI::IsMember({"rollback", "continue"}));
    cmd->add_option("--reason", *reason, "why (recorded on the CR)");
    OnRun(cmd, slot, [server, id, env, decision, reason](Context& ctx) -> Status {
      ASSIGN_OR_RETURN(RemoteClient client, ClientFor(*server));
      ASSIGN_OR_RETURN(
          json answer,
          client.Post("/api/v1/crs/" + RemoteClient::Segment(*id) + "/decisions",
                      {{"environment", *env}, {"decision", *decision}, {"reason", *reason}}));
      // "continue" answers with the CR; "rollback" with the rollback run, followed to its end.
      if (*decision == "continue" || answer["id"].is_null()) {
        if (ctx.json()) {
          PrintJson(ctx, answer);
        } else if (answer["id"].is_null()) {
          ctx.out() << Text(answer, "message") << "\n";
        } else {
          ctx.out() << fmt::format("{} in {}: continue recorded\n", *id, *env);
        }
        return Status::Ok();
      }
      if (!ctx.json()) {
        ctx.err() << fmt::format("{} (rollback) started on {}\n", Text(answer, "id"),
                                 client.server());
      }
      return Follow(ctx, client, Text(answer, "id"));
    });
  }

  auto* run = app.add_subcommand("run", "runs on the server: list, show, cancel");
  run->require_subcommand(1);
  {
    auto* cmd = run->add_subcommand("list", "runs, newest first");
    auto limit = std::make_shared<size_t>(50);
    cmd->add_option("--limit", *limit, "at most this many")->check(CLI::PositiveNumber);
    OnRun(cmd, slot,
          Remote(
              server,
              [limit](const RemoteClient& c) { return AllPages(c, "/api/v1/runs", {}, *limit); },
              [](Context& ctx, const json& items) {
                for (const json& item : items) PrintRun(ctx, item);
              }));
  }
  {
    auto* cmd = run->add_subcommand("show", "a run and every step execution");
    auto id = std::make_shared<std::string>();
    cmd->add_option("RUN", *id, "run id")->required();
    OnRun(cmd, slot,
          Remote(
              server,
              [id](const RemoteClient& c) {
                return c.Get("/api/v1/runs/" + RemoteClient::Segment(*id));
              },
              PrintRun));
  }
  {
    auto* cmd = run->add_subcommand("cancel", "ask a run to stop");
    auto id = std::make_shared<std::string>();
    cmd->add_option("RUN", *id, "run id")->required();
    OnRun(cmd, slot,
          Remote(
              server,
              [id](const RemoteClient& c) {
                return c.Post("/api/v1/runs/" + RemoteClient::Segment(*id) + "/cancel",
                              json::object());
              },
              [](Context& ctx, const json& r) {
                ctx.out() << fmt::format("{}: cancel asked ({} now)\n", Text(r, "id"),
                                         Text(r, "state"));
              }));
  }

  auto* audit = app.add_subcommand("audit", "the audit log on the server");
  audit->require_subcommand(1);
  {
    auto* cmd = audit->add_subcommand("export", "every event (or one object's), one JSON per line");
    auto object = std::make_shared<std::string>();
    cmd->add_option("--object", *object, "only this object's events, e.g. CR-7");
    OnRun(cmd, slot, [server, object](Context& ctx) -> Status {
      ASSIGN_OR_RETURN(RemoteClient client, ClientFor(*server));
      Query query;
      if (!object->empty()) query.emplace_back("object", *object);
      ASSIGN_OR_RETURN(json events, AllPages(client, "/api/v1/audit", query, 0));
      for (const json& e : events) {
        ctx.out() << e.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      }
      return Status::Ok();
    });
  }
}

}  // namespace rollgate::cli
