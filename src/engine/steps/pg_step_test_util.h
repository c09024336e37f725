// The database step types' tests against the lab's PostgreSQL (engine_pg_steps_test, label lab):
// CMake's fixture runs `lab/lab.sh up 1` in ROLLGATE_TEST_LAB_DIR first. Each test works in a
// scratch database of its own, owned by the lab's `demo` role, created and dropped through the
// lab's socket as the `postgres` superuser (local connections are trusted there).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/sha256.h"
#include "common/strings.h"
#include "engine/steps/data_step_test_util.h"

namespace rollgate::testing {

inline const std::filesystem::path kPgLab = ROLLGATE_TEST_LAB_DIR;

inline std::string LabPgPort() { return std::string(Trim(ReadText(kPgLab / "postgres/port"))); }

// A database name of the running test, its own even when CTest runs tests at once: "rg_",
// the test's name in lower case (cut), and a digest of suite and test name.
inline std::string TestDatabaseName() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string full = std::string(test->test_suite_name()) + "." + test->name();
  std::string name =
      "rg_" + ToLower(test->name()).substr(0, 40) + "_" + Sha256Hex(full).substr(0, 8);
  return name;
}

class ScratchDatabase {
 public:
  // `name`: lower-case letters, digits and '_' (used without quoting).
  explicit ScratchDatabase(std::string name = TestDatabaseName()) : name_(std::move(name)) {
    port_ = LabPgPort();
    EXPECT_FALSE(port_.empty()) << "the lab is not up at " << kPgLab;
    Admin(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
    Admin(fmt::format("CREATE DATABASE {} OWNER demo", name_));
  }
  ~ScratchDatabase() { Admin(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_)); }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& port() const { return port_; }
  // The URL a step is given: TCP on 127.0.0.1 as demo, no password in it.
  std::string Url() const { return fmt::format("postgresql://demo@127.0.0.1:{}/{}", port_, name_); }
  // The password as a step's secret.
  std::map<std::string, std::string> Secrets() const {
    return {{"PGPASSWORD", "file:" + (kPgLab / "postgres/demo.password").string()}};
  }
  std::string Password() const {
    return std::string(Trim(ReadText(kPgLab / "postgres/demo.password")));
  }

  // Runs `sql` as demo in this database; its unaligned output. ADD_FAILURE when psql fails.
  std::string Sql(const std::string& sql) {
    ShellResult result = SqlResult(sql);
    EXPECT_EQ(result.exit_code, 0) << sql << "\n" << result.output;
    return std::string(Trim(result.output));
  }
  ShellResult SqlResult(const std::string& sql) {
    char path[] = "/tmp/rollgate-pgtest-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return {};
    ssize_t written = write(fd, sql.data(), sql.size());
    close(fd);
    if (written != static_cast<ssize_t>(sql.size())) return {};
    ShellResult result = Shell(
        fmt::format("psql -X -q -At -v ON_ERROR_STOP=1 -h '{}' -p {} -U demo -d {} -f {} 2>&1",
                    (kPgLab / "postgres/run").string(), port_, name_, path));
    unlink(path);
    return result;
  }

 private:
  void Admin(const std::string& sql) {
    ShellResult result = Shell(fmt::format(
        "psql -X -q -v ON_ERROR_STOP=1 -h '{}' -p {} -U postgres -d postgres -c '{}' 2>&1",
        (kPgLab / "postgres/run").string(), port_, sql));
    EXPECT_EQ(result.exit_code, 0) << sql << "\n" << result.output;
  }

  std::string name_;
  std::string port_;
};

// Sets PGPASSWORD in this process for the life of the object: the probe of a step is run without
// the step's secrets (LocalStepHost::Probe), and inherits this process's environment.
class ScopedPassword {
 public:
  explicit ScopedPassword(const std::string& password) {
    setenv("PGPASSWORD", password.c_str(), 1);
  }
  ~ScopedPassword() { unsetenv("PGPASSWORD"); }
  ScopedPassword(const ScopedPassword&) = delete;
  ScopedPassword& operator=(const ScopedPassword&) = delete;
};

}  // namespace rollgate::testing
