// demo: the governance story on embedded defaults, told by running the real commands.
//
// The demo writes the starter configuration (with --as allowed) into a fresh workspace and runs
// this same binary once per step, printing each command line and its output, and checking each
// exit code against the one the playbook demands — so a refusal that did not happen fails the
// demo instead of scrolling past.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/demo_story.h"
#include "cli/output.h"
#include "common/strings.h"
#include "config/starter.h"

extern char** environ;

namespace rollgate::cli {

namespace {

struct DemoArgs {
  std::string dir;
  bool keep_lab = false;
};

// Caller variables the lab's script reads (addresses, ports, login user, binaries).
bool IsLabVariable(const std::string& entry) {
  for (const char* name : {"ROLLGATE_LAB_SUBNET=", "ROLLGATE_LAB_SSH_PORT=",
                           "ROLLGATE_LAB_HTTP_PORT=", "ROLLGATE_LAB_PG_PORT=", "ROLLGATE_LAB_USER=",
                           "ROLLGATE_DEMO_SERVICE=", "ROLLGATE_LAB_SCRIPT="}) {
    if (StartsWith(entry, name)) return true;
  }
  return false;
}

// The command line as a person would type it: arguments with spaces or quotes are quoted.
std::string DisplayCommand(const std::vector<std::string>& args) {
  std::string out = "rollgate";
  for (const auto& a : args) {
    bool plain = !a.empty() && a.find_first_of(" \t'\"$`\\;&|<>()*?") == std::string::npos;
    out += " ";
    if (plain) {
      out += a;
      continue;
    }
    out += "'";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += "'";
  }
  return out;
}

Result<std::filesystem::path> SelfPath() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Internal("cannot find the rollgate binary (/proc/self/exe): " + ec.message());
  return path;
}

// Runs one demo step as a child process; its stdout/stderr go to ours, indented by the caller's
// terminal as they come.
Result<int> RunStep(const std::filesystem::path& self, const std::filesystem::path& workspace,
                    const std::filesystem::path& lab, const std::vector<std::string>& args) {
  std::vector<std::string> storage = {self.string()};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string config_env = "ROLLGATE_CONFIG=" + (workspace / "rollgate.yaml").string();
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    // The story's own configuration, not the caller's; a fixed clock (ROLLGATE_NOW) is kept so
    // the steps run at the time the story was planned for.
    if (StartsWith(entry, "ROLLGATE_") && !StartsWith(entry, "ROLLGATE_NOW=") &&
        !IsLabVariable(entry)) {
      continue;
    }
    env_storage.push_back(entry);
  }
  env_storage.push_back(config_env);
  // The lab's hosts are reached with the lab's ssh client configuration; as root, the lab logs
  // in as its own /bin/sh user unless the caller chose one.
  env_storage.push_back("ROLLGATE_SSH_CONFIG=" + (lab / "ssh_config").string());
  if (geteuid() == 0 && std::getenv("ROLLGATE_LAB_USER") == nullptr) {
    env_storage.push_back("ROLLGATE_LAB_USER=rollgate-lab");
  }
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, workspace.c_str());
  std::cout.flush();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Internal(fmt::format("cannot start {}: {}", argv[0], std::strerror(rc)));
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Writes the configuration (starter file, --as allowed, plus the lab's system) and the story's
// files into the workspace, then runs the story.
template <typename Run>
Status RunStory(Context& ctx, const std::filesystem::path& workspace,
                const std::filesystem::path& lab, Run& run) {
  std::string config = StarterConfigYaml();
  auto pos = config.find("allow_as: false");
  if (pos == std::string::npos) return Internal("starter configuration has no identity.allow_as");
  config.replace(pos, 15, "allow_as: true");
  std::ifstream fragment_in(lab / "rollgate-hosts.yaml");
  std::string fragment((std::istreambuf_iterator<char>(fragment_in)),
                       std::istreambuf_iterator<char>());
  auto systems = fragment.find("systems:\n");
  auto starter_systems = config.find("\nsystems:\n");
  if (systems == std::string::npos || starter_systems == std::string::npos) {
    return Internal("the lab's rollgate-hosts.yaml or the starter file has no systems: list");
  }
  config.insert(starter_systems + 10, fragment.substr(systems + 9));
  // Deployment and rollback messages land in the workspace's notifications.log (a file channel),
  // beside the starter's e-mail and chat channels, which need the notification service.
  for (const char* from :
       {"channels: [teams, email]", "channels: [email]", "channels: [phone, teams]"}) {
    std::string to = std::string(from).insert(std::string(from).size() - 1, ", journal");
    for (auto at = config.find(from); at != std::string::npos; at = config.find(from, at + 1)) {
      config.replace(at, std::string(from).size(), to);
    }
  }
  // A short look at the service at the end of each deployment (the default is a minute).
  auto log_check = config.find("log_check_after:");
  if (log_check == std::string::npos) return Internal("the starter file has no log_check_after");
  config.insert(config.find('\n', log_check) + 1, "      observe_window: 5s\n");
  auto channels = config.find("\nchannels:\n");
  if (channels == std::string::npos) return Internal("the starter file has no channels: list");
  config.insert(channels + 11,
                "  - {name: journal, type: file, settings: {path: notifications.log}}\n");
  std::ofstream(workspace / "rollgate.yaml", std::ios::trunc) << config;

  DemoStory story = BuildGovernanceStory(ctx.clock().Now(), ctx.zone(), workspace, lab);
  for (const auto& [name, content] : story.files) {
    std::ofstream(workspace / name, std::ios::trunc) << content;
  }
  for (const auto& step : story.steps) RETURN_IF_ERROR(run(step));
  return Status::Ok();
}

Status RunDemo(Context& ctx, const DemoArgs& args) {
  ASSIGN_OR_RETURN(std::filesystem::path self, SelfPath());
  std::filesystem::path workspace(args.dir);
  if (args.dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "rollgate-demo-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      return Unavailable(fmt::format("cannot create a workspace under {}: {}",
                                     std::filesystem::temp_directory_path().string(),
                                     std::strerror(errno)));
    }
    workspace = pattern;
    // The lab's hosts log in as their own user and must reach the lab inside the workspace.
    std::filesystem::permissions(
        workspace, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                       std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                       std::filesystem::perms::others_exec);
  }
  std::error_code ec;
  if (std::filesystem::exists(workspace / ".rollgate", ec)) {
    return Conflict(fmt::format("{} already holds a Rollgate store; choose an empty --dir",
                                workspace.string()));
  }
  std::filesystem::create_directories(workspace, ec);
  if (ec) return Unavailable(fmt::format("cannot create {}: {}", workspace.string(), ec.message()));

  std::filesystem::path lab = workspace / "lab";
  std::cout << "Rollgate demo: a patch through DEV, TEST and PROD on a fleet of loopback hosts,\n"
            << "a change that fails in PROD and is rolled back, and the governance around both.\n"
            << "Workspace: " << workspace.string() << "\n";
  int step_number = 0;
  auto run = [&](const DemoStep& step) -> Status {
    if (!step.chapter.empty()) std::cout << "\n== " << step.chapter << "\n";
    std::cout << "\n" << ++step_number << ".";
    if (!step.narration.empty()) std::cout << " " << step.narration;
    std::cout << "\n$ " << DisplayCommand(step.args) << "\n";
    ASSIGN_OR_RETURN(int exit_code, RunStep(self, workspace, lab, step.args));
    if (exit_code != step.expected_exit) {
      return Failed(fmt::format("demo step {} exited {} where the playbook expects {}: {}",
                                step_number, exit_code, step.expected_exit,
                                DisplayCommand(step.args)));
    }
    if (step.expected_exit != 0) {
      std::cout << (exit_code == 1
                        ? fmt::format("   -> failed with exit code {}, as this story expects\n",
                                      exit_code)
                        : fmt::format("   -> refused with exit code {}, as the playbook demands\n",
                                      exit_code));
    }
    return Status::Ok();
  };
  DemoStep lab_up{"The lab",
                  "Five loopback hosts with sshd and the demo service, and PostgreSQL: host1 is "
                  "DEV, host2 TEST, host3-5 PROD.",
                  {"lab", "--dir", lab.string(), "up", "5"},
                  0};
  DemoStep lab_down{
      "", "Everything the lab started is stopped.", {"lab", "--dir", lab.string(), "down"}, 0};
  Status status = run(lab_up);
  if (status.ok()) status = RunStory(ctx, workspace, lab, run);
  if (!args.keep_lab) {
    if (!status.ok()) std::cout << "\nThe demo stopped early; stopping the lab.\n";
    Status down = run(lab_down);
    if (status.ok()) status = down;
  }
  if (!status.ok()) return status;
  std::string config_flag = "--config " + (workspace / "rollgate.yaml").string();
  std::cout << "\nThe story is complete. Everything above is in the store and the audit log:\n"
            << "  workspace:  " << workspace.string() << "\n"
            << "  the CRs:    rollgate " << config_flag << " cr show CR-1 --format markdown\n"
            << "  the runs:   rollgate " << config_flag << " run show RUN-3\n"
            << "  messages:   " << (workspace / "notifications.log").string() << "\n"
            << "  the record: rollgate " << config_flag << " audit export\n";
  if (args.keep_lab) {
    std::cout << "  the lab:    " << lab.string() << " (stop it: rollgate lab --dir "
              << lab.string() << " down)\n";
  }
  return Status::Ok();
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, Action& slot) {
  auto* cmd = app.add_subcommand("demo", "the whole story on embedded defaults");
  auto args = std::make_shared<DemoArgs>();
  cmd->add_option("--dir", args->dir, "workspace to use (default: a new directory under /tmp)");
  cmd->add_flag("--keep-lab", args->keep_lab, "leave the lab running afterwards, to explore it");
  OnRun(cmd, slot, [args](Context& ctx) { return RunDemo(ctx, *args); });
}

}  // namespace rollgate::cli
