// lab up N, lab down, lab reset, lab status: the loopback fleet of issue 4, through the project's
// lab/lab.sh.
//
// The script is $ROLLGATE_LAB_SCRIPT, else <source tree>/lab/lab.sh (ROLLGATE_SOURCE_DIR, baked
// in at compile time). The lab directory is --dir, else $ROLLGATE_LAB_DIR, else /tmp/rollgate-lab
// (lab.sh's own default), passed on as ROLLGATE_LAB_DIR. `lab up` also writes
// <lab>/rollgate-hosts.yaml, a configuration fragment naming the lab's hosts.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/output.h"
#include "common/strings.h"
#include "transport/process.h"

extern char** environ;

namespace rollgate::cli {

namespace {

constexpr int kMaxLabHosts = 200;
constexpr const char* kDefaultLabDir = "/tmp/rollgate-lab";
constexpr const char* kFragmentName = "rollgate-hosts.yaml";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

std::filesystem::path LabScript() {
  return EnvOr("ROLLGATE_LAB_SCRIPT", std::string(ROLLGATE_SOURCE_DIR) + "/lab/lab.sh");
}

std::filesystem::path LabDir(const std::string& option) {
  if (!option.empty()) return std::filesystem::absolute(option);
  return EnvOr("ROLLGATE_LAB_DIR", kDefaultLabDir);
}

// Runs lab.sh with `args`, ROLLGATE_LAB_DIR=`lab` (and the demo service this build made, unless
// the caller chose one). Its stderr goes to ours; its stdout too, unless `captured` is given.
// Returns the script's exit code, or why it could not start.
Result<int> RunLabScript(const std::filesystem::path& lab, const std::vector<std::string>& args,
                         std::string* captured) {
  std::filesystem::path script = LabScript();
  if (access(script.c_str(), X_OK) != 0) {
    return NotFound(
        fmt::format("lab script {} not found or not executable (set "
                    "ROLLGATE_LAB_SCRIPT to the project's lab/lab.sh)",
                    script.string()));
  }
  std::vector<std::string> storage = {script.string()};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry; ++entry) {
    if (StartsWith(*entry, "ROLLGATE_LAB_DIR=")) continue;
    env_storage.emplace_back(*entry);
  }
  env_storage.push_back("ROLLGATE_LAB_DIR=" + lab.string());
  if (std::getenv("ROLLGATE_DEMO_SERVICE") == nullptr &&
      access(ROLLGATE_BUILD_DEMO_SERVICE, X_OK) == 0) {
    env_storage.push_back(std::string("ROLLGATE_DEMO_SERVICE=") + ROLLGATE_BUILD_DEMO_SERVICE);
  }
  std::vector<char*> argv, envp;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (std::string& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);

  UniqueFd read_end, write_end;
  if (captured) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return PosixError("pipe for lab.sh", errno);
    read_end = UniqueFd(fds[0]);
    write_end = UniqueFd(fds[1]);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (captured) posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  std::cout.flush();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return PosixError("cannot start " + script.string(), rc);
  write_end.Reset();
  if (captured) {
    char buffer[4096];
    while (true) {
      ssize_t n = read(read_end.get(), buffer, sizeof buffer);
      if (n > 0) {
        captured->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Status ScriptFailed(const std::string& what, int code) {
  return Failed(fmt::format("lab.sh {} failed (exit {}); its messages are above", what, code));
}

struct LabHost {
  std::string name, address, ssh_port, http_port, user, root;
};

// Reads <lab>/hosts.csv (header, then name,address,ssh_port,http_port,user,root per host).
Result<std::vector<LabHost>> ReadHosts(const std::filesystem::path& lab) {
  std::ifstream in(lab / "hosts.csv");
  if (!in) return NotFound(fmt::format("{} missing: is the lab up?", (lab / "hosts.csv").string()));
  std::vector<LabHost> hosts;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream fields_in(line);
    std::string field;
    while (std::getline(fields_in, field, ',')) fields.push_back(field);
    if (fields.size() != 6) {
      return Corruption(fmt::format("{}: malformed line \"{}\"", (lab / "hosts.csv").string(),
                                    EscapeForDisplay(line)));
    }
    hosts.push_back({fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]});
  }
  return hosts;
}

std::string HostList(const std::vector<LabHost>& hosts, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to && i < hosts.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}@{}:{}", hosts[i].user, hosts[i].address, hosts[i].ssh_port);
  }
  return "[" + out + "]";
}

// The configuration fragment for the lab's hosts: a system `demo` deployable by `rollgate deploy`
// as it is (host1 DEV, host2 TEST, the rest PROD; one database per environment).
std::string HostsFragment(const std::filesystem::path& lab, const std::vector<LabHost>& hosts) {
  std::string pg_port = "55432";
  if (std::ifstream in(lab / "postgres" / "port"); in) std::getline(in, pg_port);
  std::string out = fmt::format(
      "# The lab's hosts, written by `rollgate lab up` for the lab in {0}.\n"
      "# Paste the system below into the `systems:` list of your rollgate.yaml (or copy its\n"
      "# hosts into a system of yours). Rollgate reaches them with ssh like a person does:\n"
      "#   ssh -F {0}/ssh_config host1\n"
      "# (key {0}/client/id_ed25519, known hosts {0}/known_hosts, strict host key checking);\n"
      "# give that file to deploy with --ssh-config or ROLLGATE_SSH_CONFIG.\n"
      "# Each host runs the demo service on its address, port {1}; its files live under the\n"
      "# host's own root directory, $ROLLGATE_HOST_ROOT in its ssh sessions (host_root_env).\n"
      "systems:\n"
      "  - name: demo\n"
      "    description: the lab's demo service\n"
      "    port: {1}\n"
      "    host_root_env: ROLLGATE_HOST_ROOT\n"
      "    work_dir: {0}/work\n"
      "    backup_dir: /var/backups/demo\n"
      "    app_dir: /opt/demo\n"
      "    config_dir: /etc/demo\n"
      "    service:\n"
      "      name: demo\n"
      "      manager: command\n"
      "      start_command: '\"$ROLLGATE_HOST_ROOT/bin/demo-service\" start'\n"
      "      stop_command: '\"$ROLLGATE_HOST_ROOT/bin/demo-service\" stop'\n"
      "      status_command: '\"$ROLLGATE_HOST_ROOT/bin/demo-service\" status'\n"
      "    smoke_command: '\"$ROLLGATE_ROOT$ROLLGATE_RELEASE_DIR/smoke-test.sh\" "
      "\"$ROLLGATE_BASE_URL\"'\n"
      "    regression:\n"
      "      command: '\"$ROLLGATE_ROOT$ROLLGATE_RELEASE_DIR/regression.sh\" "
      "\"http://$ROLLGATE_HOST_NAME:{1}\" \"$ROLLGATE_ROOT/tmp/regression.xml\"'\n"
      "      results: /tmp/regression.xml\n"
      "    logs:\n"
      "      file: /var/log/demo/application.log\n"
      "    database:\n"
      "      url: postgresql://demo@127.0.0.1:{2}/demo\n"
      "      password: file:{0}/postgres/demo.password\n"
      "      environments:\n"
      "        DEV: {{url: 'postgresql://demo@127.0.0.1:{2}/demo_dev', password: "
      "'file:{0}/postgres/demo.password'}}\n"
      "        TEST: {{url: 'postgresql://demo@127.0.0.1:{2}/demo_test', password: "
      "'file:{0}/postgres/demo.password'}}\n"
      "        PROD: {{url: 'postgresql://demo@127.0.0.1:{2}/demo_prod', password: "
      "'file:{0}/postgres/demo.password'}}\n"
      "    critical_tables: [orders]\n"
      "    # The service's own counters give the share of requests in error (users-affected);\n"
      "    # the observation after a deployment also probes the critical endpoint.\n"
      "    metrics:\n"
      "      requests_metric: demo_requests_total\n"
      "      errors_metric: demo_errors_total\n"
      "      probe_paths: [/api/orders]\n"
      "    hosts:\n",
      lab.string(), hosts.empty() ? std::string("8080") : hosts.front().http_port, pg_port);
  out += "      DEV: " + HostList(hosts, 0, 1) + "\n";
  if (hosts.size() >= 2) out += "      TEST: " + HostList(hosts, 1, 2) + "\n";
  if (hosts.size() >= 3) out += "      PROD: " + HostList(hosts, 2, hosts.size()) + "\n";
  return out;
}

Status RunLabUp(Context& ctx, int count, const std::string& dir_option) {
  std::filesystem::path lab = LabDir(dir_option);
  ASSIGN_OR_RETURN(int code, RunLabScript(lab, {"up", std::to_string(count)}, nullptr));
  if (code != 0) return ScriptFailed("up", code);
  ASSIGN_OR_RETURN(std::vector<LabHost> hosts, ReadHosts(lab));
  std::filesystem::path fragment = lab / kFragmentName;
  RETURN_IF_ERROR(WriteFileAtomically(fragment, HostsFragment(lab, hosts)));
  if (ctx.json()) {
    std::string status_text;
    ASSIGN_OR_RETURN(int status_code, RunLabScript(lab, {"status", "--json"}, &status_text));
    if (status_code != 0) return ScriptFailed("status", status_code);
    nlohmann::json document = nlohmann::json::parse(status_text, nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
      return Corruption("lab.sh status --json printed no JSON object");
    }
    document["rollgate_yaml"] = fragment.string();
    PrintJson(ctx, document);
    return Status::Ok();
  }
  std::string lab_command = "rollgate lab";
  if (!dir_option.empty()) lab_command += " --dir " + lab.string();
  ctx.out() << fmt::format(
      "lab up: {0} hosts in {1}\n"
      "  log in:        ssh -F {1}/ssh_config host1\n"
      "  demo service:  curl http://{2}:{3}/health\n"
      "  database:      . {1}/postgres.env && psql\n"
      "  configuration: {4} (the hosts for rollgate.yaml)\n"
      "  status / stop: {5} status / {5} down\n",
      hosts.size(), lab.string(), hosts.empty() ? "" : hosts.front().address,
      hosts.empty() ? "" : hosts.front().http_port, fragment.string(), lab_command);
  return Status::Ok();
}

// `lab down` and `lab reset`: lab.sh `verb`, then {"lab_dir", json_field: true} or `done` and the
// lab directory.
Status RunLabVerb(Context& ctx, const std::string& dir_option, const std::string& verb,
                  const std::string& json_field, const std::string& done) {
  std::filesystem::path lab = LabDir(dir_option);
  ASSIGN_OR_RETURN(int code, RunLabScript(lab, {verb}, nullptr));
  if (code != 0) return ScriptFailed(verb, code);
  if (ctx.json()) {
    PrintJson(ctx, {{"lab_dir", lab.string()}, {json_field, true}});
  } else {
    ctx.out() << "lab " << verb << ": " << done << " " << lab.string() << "\n";
  }
  return Status::Ok();
}

Status RunLabStatus(Context& ctx, const std::string& dir_option) {
  std::filesystem::path lab = LabDir(dir_option);
  if (!ctx.json()) {
    ASSIGN_OR_RETURN(int code, RunLabScript(lab, {"status"}, nullptr));
    if (code != 0) return ScriptFailed("status", code);
    return Status::Ok();
  }
  std::string text;
  ASSIGN_OR_RETURN(int code, RunLabScript(lab, {"status", "--json"}, &text));
  if (code != 0) return ScriptFailed("status", code);
  nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return Corruption("lab.sh status --json printed no JSON object");
  }
  PrintJson(ctx, document);
  return Status::Ok();
}

}  // namespace

void RegisterLabCommands(CLI::App& app, Action& slot) {
  auto* lab = app.add_subcommand("lab",
                                 "a fleet of loopback hosts with the demo service and "
                                 "PostgreSQL, for trying Rollgate and for tests");
  lab->require_subcommand(1);
  auto dir = std::make_shared<std::string>();
  lab->add_option("--dir", *dir,
                  "lab directory (default: $ROLLGATE_LAB_DIR, else /tmp/rollgate-lab)");
  {
    auto* cmd = lab->add_subcommand("up", "start hosts 1..N (idempotent)");
    auto count = std::make_shared<int>(0);
    cmd->add_option("N", *count, "number of hosts")->required()->check(CLI::Range(1, kMaxLabHosts));
    OnRun(cmd, slot, [count, dir](Context& ctx) { return RunLabUp(ctx, *count, *dir); });
  }
  {
    auto* cmd = lab->add_subcommand("down", "stop everything the lab started");
    OnRun(cmd, slot, [dir](Context& ctx) {
      return RunLabVerb(ctx, *dir, "down", "stopped", "stopped everything in");
    });
  }
  {
    auto* cmd = lab->add_subcommand(
        "reset", "put every host back on demo 1.0.0 and recreate the databases (keeps it running)");
    OnRun(cmd, slot, [dir](Context& ctx) {
      return RunLabVerb(ctx, *dir, "reset", "reset",
                        "every host back on demo 1.0.0, databases recreated, in");
    });
  }
  {
    auto* cmd = lab->add_subcommand("status", "hosts, services and PostgreSQL of the lab");
    OnRun(cmd, slot, [dir](Context& ctx) { return RunLabStatus(ctx, *dir); });
  }
}

}  // namespace rollgate::cli
