#include <gtest/gtest.h>

#include "engine/steps/data_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

using testing::ValidateError;

std::map<std::string, std::string> WithTables(const std::string& tables,
                                              const std::string& action = "record") {
  return {{"database_url", "postgresql://demo@{host}/demo"},
          {"tables", tables},
          {"state_dir", "/var/lib/rollgate"},
          {"label", "before"},
          {"action", action}};
}

TEST(DataIntegrityStep, TablesAreNamesOneALine) {
  EXPECT_EQ(ValidateError("data-integrity", WithTables("orders\n customers \r\n\nInvoices")), "");
  EXPECT_EQ(ValidateError("data-integrity", WithTables("orders", "compare")), "");
  for (const std::string tables :
       {"", "\n \n", "orders; DROP TABLE orders", "orders\ncustomers--", "public.orders",
        "\"orders\"", "orders\n$(touch x)", "1orders", "orders customers"}) {
    EXPECT_NE(ValidateError("data-integrity", WithTables(tables)), "") << tables;
  }
}

TEST(DataIntegrityStep, ActionIsRecordOrCompare) {
  EXPECT_NE(ValidateError("data-integrity", WithTables("orders", "delete")), "");
  auto params = WithTables("orders");
  params.erase("action");
  EXPECT_NE(ValidateError("data-integrity", params), "");
  params = WithTables("orders");
  params["label"] = "../x";
  EXPECT_NE(ValidateError("data-integrity", params), "");
}

TEST(DataIntegrityStep, CompareWithoutRecordedCountsIsBadInput) {
  testing::UseRun();
  testing::LocalStepHost host;
  auto params = WithTables("orders", "compare");
  params["database_url"] = "postgresql://nobody@127.0.0.1:1/none";
  testing::StepOutcome out = host.Run("data-integrity", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("no counts recorded under label before in run run-1"),
            std::string::npos)
      << out.result.output_tail;
}

TEST(DataIntegrityStep, RecordedRunNamesAnotherRunsCountsForCompareOnly) {
  auto params = WithTables("orders", "compare");
  params["recorded_run"] = "RUN-4";
  EXPECT_EQ(ValidateError("data-integrity", params), "");
  for (const std::string run : {"", ".hidden", "../RUN-4", "RUN 4", "RUN-4/x", "$(id)"}) {
    params["recorded_run"] = run;
    EXPECT_NE(ValidateError("data-integrity", params), "") << run;
  }
  params = WithTables("orders", "record");
  params["recorded_run"] = "RUN-4";
  EXPECT_NE(ValidateError("data-integrity", params).find("only for action compare"),
            std::string::npos);

  // The counts are looked for under that run, not this one.
  testing::UseRun("RUN-9");
  testing::LocalStepHost host;
  params = WithTables("orders", "compare");
  params["database_url"] = "postgresql://nobody@127.0.0.1:1/none";
  params["recorded_run"] = "RUN-4";
  testing::StepOutcome out = host.Run("data-integrity", params);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.result.exit_code, 2) << out.result.output_tail;
  EXPECT_NE(out.result.output_tail.find("no counts recorded under label before in run RUN-4"),
            std::string::npos)
      << out.result.output_tail;
}

}  // namespace
}  // namespace rollgate
