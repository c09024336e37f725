// serve: the HTTP API, metrics, the runs started through it and the timer (docs/server.md);
// token create | list | revoke: the bearer tokens the API authenticates.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "cli/serve_runs.h"
#include "common/strings.h"
#include "server/http_server.h"
#include "service/token_service.h"
#include "views/views.h"

namespace rollgate::cli {

namespace {

using nlohmann::json;

struct CreateArgs {
  std::string person, label, expires;
};

Status RunCreate(Context& ctx, const CreateArgs& args) {
  std::optional<Seconds> valid_for;
  if (!args.expires.empty()) {
    Result<Seconds> parsed = ParseDuration(args.expires);
    if (!parsed.ok()) {
      return InvalidArgument(fmt::format("--expires: {}", parsed.status().message()));
    }
    valid_for = *parsed;
  }
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  TokenService service(*config, *store, ctx.clock());
  std::string person = args.person.empty() ? actor : args.person;
  ASSIGN_OR_RETURN(CreatedToken created, service.Create(person, args.label, valid_for, actor));
  if (ctx.json()) {
    json document = TokenJson(created.token, ctx.clock().Now());
    document["token"] = created.secret;
    PrintJson(ctx, document);
  } else {
    ctx.out() << created.secret << "\n";
    ctx.err() << fmt::format(
        "{} created for {}{}; the token is shown only now: keep it secret "
        "(ROLLGATE_TOKEN or 'Authorization: Bearer ...')\n",
        created.token.id, created.token.person,
        created.token.expires_at
            ? ", valid until " + FormatLocalMinutes(*created.token.expires_at, ctx.zone())
            : "");
  }
  return Status::Ok();
}

Status RunList(Context& ctx) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  TokenService service(*config, *store, ctx.clock());
  ASSIGN_OR_RETURN(std::vector<ApiToken> tokens, service.List());
  Timestamp now = ctx.clock().Now();
  if (ctx.json()) {
    json list = json::array();
    for (const ApiToken& t : tokens) list.push_back(TokenJson(t, now));
    PrintJson(ctx, list);
    return Status::Ok();
  }
  for (const ApiToken& t : tokens) {
    ctx.out() << fmt::format(
        "{:<8} {:<12} {:<8} {:<20} {}\n", t.id, t.person, TokenStateAt(t, now),
        t.expires_at ? FormatLocalMinutes(*t.expires_at, ctx.zone()) : "no expiry",
        EscapeForDisplay(t.label));
  }
  if (tokens.empty()) ctx.err() << "no tokens\n";
  return Status::Ok();
}

Status RunRevoke(Context& ctx, const std::string& id) {
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Store * store, ctx.GetStore());
  ASSIGN_OR_RETURN(std::string actor, ctx.Actor());
  TokenService service(*config, *store, ctx.clock());
  ASSIGN_OR_RETURN(ApiToken token, service.Revoke(id, actor));
  if (ctx.json()) {
    PrintJson(ctx, TokenJson(token, ctx.clock().Now()));
  } else {
    ctx.out() << fmt::format("{} of {} revoked\n", token.id, token.person);
  }
  return Status::Ok();
}

struct ServeArgs {
  std::string listen;
  std::string transport = "ssh";
  int concurrency = 10;
  std::string tick = "30s";
  std::string drain = "30s";
};

Status RunServe(Context& ctx, const ServeArgs& args) {
  // Before any thread starts: a stop signal must reach the watcher, not a run's thread.
  server::BlockStopSignals();
  const std::string& listen = args.listen;
  ASSIGN_OR_RETURN(const Config* config, ctx.GetConfig());
  ASSIGN_OR_RETURN(Seconds tick, ParseDuration(args.tick));
  ASSIGN_OR_RETURN(Seconds drain, ParseDuration(args.drain, /*allow_zero=*/true));
  // Open the store once here, so that a bad URL or a newer schema is reported before listening.
  RETURN_IF_ERROR(ctx.GetStore().status());
  GlobalOptions run_options = ctx.options();
  run_options.config_path = ctx.ConfigPath();
  run_options.store_url = ctx.StoreUrl();
  ServerRuns runs(run_options, ctx.clock(), ctx.zone(), args.transport,
                  std::clamp(args.concurrency, 1, 1024), std::cerr);
  server::ServeOptions options;
  options.listen = listen;
  options.store_url = ctx.StoreUrl();
  options.config_dir = std::filesystem::path(ctx.ConfigPath()).parent_path();
  options.runs = &runs;
  options.packages_dir = ctx.PackagesDir();
  server::HttpServer http(*config, options, ctx.clock(), ctx.zone());
  RETURN_IF_ERROR(http.Bind());
  ASSIGN_OR_RETURN(std::vector<std::string> resumed, runs.ResumeLeftRuns());
  for (const std::string& id : resumed) {
    std::cerr << fmt::format("rollgate serve: resuming {}, left by a server that stopped\n", id);
  }
  runs.StartTimer(tick);
  Status served = server::ServeUntilSignal(
      http,
      [&](int port) {
        std::string address = listen.empty() ? config->server.listen : listen;
        address = address.substr(0, address.rfind(':'));
        std::string scheme = config->server.tls_cert.empty() ? "http" : "https";
        if (ctx.json()) {
          PrintJson(ctx, {{"listening", fmt::format("{}://{}:{}", scheme, address, port)},
                          {"port", port}});
        } else {
          ctx.out() << fmt::format("rollgate serving on {}://{}:{}\n", scheme, address, port);
        }
        ctx.out().flush();
      },
      [&] { runs.BeginShutdown(); });
  // No new runs; the runs in flight get `drain` to finish. What still runs then is left as after
  // a crash, with every step's intent stored, and the next start resumes it.
  std::vector<std::string> left = runs.Drain(drain);
  if (!left.empty()) {
    std::cerr << fmt::format(
        "rollgate serve: stopping with {} still running ({}); the next start resumes them\n",
        left.size(), Join(left, ", "));
    std::cerr.flush();
    ctx.out().flush();
    std::_Exit(served.ok() ? 0 : 1);
  }
  return served;
}

}  // namespace

void RegisterServeCommands(CLI::App& app, Action& slot) {
  auto* serve = app.add_subcommand("serve", "the HTTP API and metrics (docs/server.md)");
  auto serve_args = std::make_shared<ServeArgs>();
  ServeArgs* options = serve_args.get();
  serve->add_option("--listen", options->listen,
                    "HOST:PORT to listen on (default: server.listen, 127.0.0.1:8420); port 0 "
                    "picks a free one");
  serve
      ->add_option("--transport", options->transport,
                   "how the runs started through the API reach their hosts: ssh (default), "
                   "session, local, simulated")
      ->check(CLI::IsMember({"local", "ssh", "session", "simulated"}));
  serve->add_option("--concurrency", options->concurrency, "hosts changed at once per run (10)");
  serve->add_option("--tick", options->tick,
                    "how often due pages escalate, notifications are retried and decisions past "
                    "their deadline take their default (30s)");
  serve->add_option("--drain", options->drain,
                    "on SIGTERM, how long runs in flight may take to finish before the server "
                    "exits and leaves them to the next start (30s)");
  OnRun(serve, slot, [serve_args](Context& ctx) { return RunServe(ctx, *serve_args); });

  auto* token = app.add_subcommand("token", "bearer tokens of the HTTP API");
  token->require_subcommand(1);
  auto* create =
      token->add_subcommand("create", "a token for a person (yourself by default); prints it once");
  auto args = std::make_shared<CreateArgs>();
  create->add_option("--person", args->person, "whose token (others need a token admin role)");
  create->add_option("--label", args->label, "what it is for, e.g. dashboard");
  create->add_option("--expires", args->expires, "valid for this long, e.g. 30d or 12h");
  OnRun(create, slot, [args](Context& ctx) { return RunCreate(ctx, *args); });
  auto* list = token->add_subcommand("list", "every token, never the secrets");
  OnRun(list, slot, [](Context& ctx) { return RunList(ctx); });
  auto* revoke = token->add_subcommand("revoke", "revoke a token at once (audited)");
  auto id = std::make_shared<std::string>();
  revoke->add_option("ID", *id, "token id, e.g. TOK-3")->required();
  OnRun(revoke, slot, [id](Context& ctx) { return RunRevoke(ctx, *id); });
}

}  // namespace rollgate::cli
