// The store contract suite: what every Store backend must do, written only against store.h.
//
// A backend instantiates it with a factory (see src/store/sqlite/sqlite_store_test.cc):
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//       ::testing::Values(StoreContractParam{"sqlite", OpenMySqliteStoreIn}), ParamName);
// The factory is called with a fresh temporary directory per test; calling it again with the
// same directory must open the same database (the concurrency tests open a second Store on it).
// Also provides sample aggregates with every field set and field-by-field comparisons, for the
// backends' own tests. Not thread-safe beyond what each test does itself.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "store/store.h"

namespace rollgate::testing {

using StoreFactory =
    std::function<Result<std::unique_ptr<Store>>(const std::filesystem::path& directory)>;

struct StoreContractParam {
  std::string name;  // the backend, for test names: "sqlite"
  StoreFactory open;
};

// Prints the backend's name (GoogleTest shows it for GetParam()).
void PrintTo(const StoreContractParam& param, std::ostream* out);

// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string StoreContractParamName(const ::testing::TestParamInfo<StoreContractParam>& info);

class StoreContractTest : public ::testing::TestWithParam<StoreContractParam> {
 protected:
  // Creates the temporary directory and opens store_ in it; fails the test if it cannot.
  void SetUp() override;
  // Closes the store and removes the directory.
  void TearDown() override;
  // Another Store on the same database (the factory called again with the same directory).
  std::unique_ptr<Store> OpenAgain();

  std::filesystem::path directory_;
  std::unique_ptr<Store> store_;
};

// A fresh directory under the system's temporary directory, named after `prefix`.
std::filesystem::path MakeTempDirectory(std::string_view prefix);

// Aggregates with every field set to a non-default value that depends on `number`.
Patch SamplePatch(int number);
ChangeRequest SampleChangeRequest(int number);
AuditRecord SampleAuditRecord(int n, std::string object = "CR-1");

// GoogleTest expectations that every field is equal (naming the field that differs).
void ExpectSamePatch(const Patch& actual, const Patch& expected);
void ExpectSameChangeRequest(const ChangeRequest& actual, const ChangeRequest& expected);

}  // namespace rollgate::testing
