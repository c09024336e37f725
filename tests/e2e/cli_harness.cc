#include "tests/e2e/cli_harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
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
  // ROLLGATE_E2E_KEEP=1 keeps the directory (store, configuration) for a post-mortem.
  if (const char* keep = std::getenv("ROLLGATE_E2E_KEEP"); keep != nullptr && *keep == '1') {
    std::cerr << "kept " << dir_ << "\n";
    return;
  }
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

CommandOutput RunProgram(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                         const std::map<std::string, std::string>& environment) {
  std::vector<std::string> argv_storage = args;
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
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
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = 0;
  // PATH for the search comes from the child's environment only when argv[0] has no slash;
  // posix_spawnp uses the parent's PATH, which the tests do not change.
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("posix_spawn failed for " + args.front());
  }

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

CommandOutput CliHarness::Run(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env) const {
  std::vector<std::string> argv = {ROLLGATE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> environment;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) environment[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  environment.erase("ROLLGATE_STORE");
  environment.erase("ROLLGATE_SERVER");
  environment.erase("ROLLGATE_NOW");
  environment["ROLLGATE_CONFIG"] = (dir_ / "rollgate.yaml").string();
  environment["TZ"] = "UTC";
  if (!now_.empty()) environment["ROLLGATE_NOW"] = now_;
  for (const auto& [k, v] : env) environment[k] = v;
  return RunProgram(argv, dir_, environment);
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

namespace rollgate::e2e {

void CliHarness::CopyStateFrom(const CliHarness& other) {
  std::filesystem::copy(
      other.dir_, dir_,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
}

std::string CliHarness::ReadFile(const std::string& name) const {
  std::ifstream in(dir_ / name, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string CliHarness::Sql(const std::string& sql) const {
  CommandOutput r = RunProgram({"sqlite3", "-batch", StorePath().string(), sql}, dir_,
                               {{"PATH", "/usr/bin:/bin:/usr/local/bin"}, {"HOME", dir_.string()}});
  EXPECT_EQ(r.exit_code, 0) << "sqlite3 failed on: " << sql << "\n" << r.err;
  return r.out;
}

int64_t CliHarness::AuditEvents() const {
  CommandOutput r = RunJson({"audit", "verify"});
  nlohmann::json doc = r.Json();
  if (!doc.is_object() || !doc.contains("events")) {
    ADD_FAILURE() << "audit verify printed no event count: " << r.out << r.err;
    return -1;
  }
  return doc["events"].get<int64_t>();
}

std::string CliHarness::StoreDump() const {
  if (!std::filesystem::exists(StorePath())) return "";
  // Read in-process (a sqlite3 process per comparison would slow the suite down): every row of
  // every table, in rowid order, plus the schema.
  sqlite3* db = nullptr;
  std::string dump;
  if (sqlite3_open_v2(StorePath().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << StorePath() << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return dump;
  }
  auto query = [&](const std::string& sql, auto&& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
      return;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) row(stmt);
    sqlite3_finalize(stmt);
  };
  std::vector<std::string> tables;
  query("SELECT name, sql FROM sqlite_master ORDER BY name", [&](sqlite3_stmt* stmt) {
    auto text = [&](int i) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
    };
    dump += text(1) + ";\n";
    std::string name = text(0);
    if (text(1).rfind("CREATE TABLE", 0) == 0) tables.push_back(name);
  });
  for (const auto& table : tables) {
    query("SELECT * FROM \"" + table + "\" ORDER BY rowid", [&](sqlite3_stmt* stmt) {
      dump += table + ":";
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const void* blob = sqlite3_column_blob(stmt, i);
        int size = sqlite3_column_bytes(stmt, i);
        dump += "|" + (blob ? std::string(static_cast<const char*>(blob), size) : "NULL");
      }
      dump += "\n";
    });
  }
  sqlite3_close(db);
  return dump;
}

}  // namespace rollgate::e2e
