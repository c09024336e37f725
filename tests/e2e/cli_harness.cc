#include "tests/e2e/cli_harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace rollgate::e2e {

nlohmann::json CommandOutput::Json() const {
  try {
    return nlohmann::json::parse(out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not one JSON document: " << e.what() << "\nstdout:\n"
                  << out << "\nstderr:\n"
                  << err;
    return nullptr;
  }
}

CliHarness::CliHarness() {
  std::string pattern = (std::filesystem::temp_directory_path() / "rollgate-e2e-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
}

CliHarness::~CliHarness() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void CliHarness::WriteFile(const std::string& name, const std::string& content) {
  std::filesystem::path path = dir_ / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

void CliHarness::WriteConfig(const std::string& yaml) { WriteFile("rollgate.yaml", yaml); }

void CliHarness::InitDemoConfig() {
  CommandOutput init = Run({"init", dir_.string()});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::ifstream in(dir_ / "rollgate.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto pos = text.find("allow_as: false");
  ASSERT_NE(pos, std::string::npos) << "starter configuration has no 'allow_as: false'";
  text.replace(pos, 15, "allow_as: true");
  WriteConfig(text);
}

CommandOutput CliHarness::Run(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env) const {
  std::vector<std::string> argv_storage = {ROLLGATE_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> environment;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) environment[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  environment.erase("ROLLGATE_STORE");
  environment.erase("ROLLGATE_SERVER");
  environment["ROLLGATE_CONFIG"] = (dir_ / "rollgate.yaml").string();
  environment["TZ"] = "UTC";
  for (const auto& [k, v] : env) environment[k] = v;
  std::vector<std::string> env_storage;
  for (const auto& [k, v] : environment) env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) throw std::runtime_error("posix_spawn failed");

  CommandOutput result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandOutput CliHarness::RunJson(const std::vector<std::string>& args,
                                  const std::string& as) const {
  std::vector<std::string> full = args;
  full.push_back("--output");
  full.push_back("json");
  if (!as.empty()) {
    full.push_back("--as");
    full.push_back(as);
  }
  return Run(full);
}

CommandOutput CliHarness::RunAs(const std::string& person, std::vector<std::string> args) const {
  args.push_back("--as");
  args.push_back(person);
  return Run(args);
}

}  // namespace rollgate::e2e
