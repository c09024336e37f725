// A fresh directory per test, for tests that need files or a store on disk.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace rollgate::testing {

// <temp>/<prefix>-<pid>-<test name>, emptied and created: the same test run again starts clean,
// and tests running beside it (other processes, other tests) never share it. The caller removes
// it in TearDown.
inline std::filesystem::path FreshTestDirectory(const std::string& prefix) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              (prefix + "-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace rollgate::testing
