// A fresh directory per test, for tests that need files or a store on disk, and reads of what
// such a store holds.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "domain/change_request.h"
#include "store/store.h"

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

// The change request `id` as `store` holds it; a failed read fails the test (an empty CR).
inline ChangeRequest StoredChangeRequest(Store& store, const std::string& id) {
  ChangeRequest cr;
  Status read = store.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(cr, tx.GetChangeRequest(id));
    return Status::Ok();
  });
  EXPECT_TRUE(read.ok()) << read.ToString();
  return cr;
}

}  // namespace rollgate::testing
