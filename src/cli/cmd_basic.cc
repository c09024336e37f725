// init, validate, cvss.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "config/loader.h"
#include "config/starter.h"
#include "domain/cvss.h"

namespace rollgate::cli {

namespace {

Status RunInit(Context& ctx, const std::string& dir, bool force) {
  std::filesystem::path target = std::filesystem::path(dir.empty() ? "." : dir) / "rollgate.yaml";
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) {
    return (Unavailable(
        fmt::format("cannot create {}: {}", target.parent_path().string(), ec.message())));
  }
  if (std::filesystem::exists(target) && !force) {
    return (
        Conflict(fmt::format("{} already exists; pass --force to overwrite it", target.string())));
  }
  std::filesystem::path temporary = target;
  temporary += ".tmp";
  {
    std::ofstream file(temporary, std::ios::trunc);
    file << StarterConfigYaml();
    if (!file.flush()) {
      return (Unavailable(fmt::format("cannot write {}", temporary.string())));
    }
  }
  std::filesystem::rename(temporary, target, ec);
  if (ec) return (Unavailable(fmt::format("cannot write {}: {}", target.string(), ec.message())));
  if (ctx.json()) {
    PrintJson(ctx, {{"written", target.string()}});
  } else {
    ctx.out() << "wrote " << target.string()
              << " with the playbook's defaults; edit it, then run 'rollgate validate'\n";
  }
  return Status::Ok();
}

Status RunValidate(Context& ctx) {
  std::string path = ctx.ConfigPath();
  LoadResult loaded = LoadConfigFile(path);
  if (ctx.json()) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : loaded.errors) {
      errors.push_back(
          {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"message", e.message}});
    }
    PrintJson(ctx, {{"valid", loaded.errors.empty()}, {"errors", errors}});
  } else if (loaded.errors.empty()) {
    const Config& c = *loaded.config;
    ctx.out() << fmt::format("{}: valid ({} environments, {} people, {} systems)\n", path,
                             c.environments.size(), c.people.size(), c.systems.size());
  }
  for (const auto& e : loaded.errors) ctx.err() << FormatConfigError(e) << "\n";
  return loaded.errors.empty() ? Status::Ok() : InvalidArgument("");
}

Status RunCvss(Context& ctx, const std::string& vector) {
  Result<CvssScore> score = ScoreCvssVector(vector);
  if (!score.ok()) return (score.error());
  if (ctx.json()) {
    PrintJson(ctx, {{"version", score->version},
                    {"vector", score->vector},
                    {"base_score", score->base_score},
                    {"severity", score->severity}});
  } else {
    ctx.out() << fmt::format("CVSS {} base score {:.1f} ({})\n", score->version, score->base_score,
                             score->severity);
  }
  return Status::Ok();
}

}  // namespace

void RegisterBasicCommands(CLI::App& app, Action& slot) {
  {
    auto* cmd = app.add_subcommand("init", "write a commented starter rollgate.yaml");
    auto dir = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    cmd->add_option("DIR", *dir, "directory to write rollgate.yaml into (default: .)");
    cmd->add_flag("--force", *force, "overwrite an existing rollgate.yaml");
    OnRun(cmd, slot, [dir, force](Context& ctx) { return RunInit(ctx, *dir, *force); });
  }
  {
    auto* cmd = app.add_subcommand("validate", "check the configuration");
    OnRun(cmd, slot, [](Context& ctx) { return RunValidate(ctx); });
  }
  {
    auto* cmd = app.add_subcommand("cvss", "score a CVSS 3.1 or 4.0 vector");
    auto vector = std::make_shared<std::string>();
    cmd->add_option("VECTOR", *vector, "e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
        ->required();
    OnRun(cmd, slot, [vector](Context& ctx) { return RunCvss(ctx, *vector); });
  }
}

}  // namespace rollgate::cli
