#include <gtest/gtest.h>

#include "engine/steps/pg_step_test_util.h"
#include "engine/steps/step_test_util.h"

namespace rollgate {
namespace {

namespace fs = std::filesystem;

constexpr char kSchema[] = R"sql(
CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL);
INSERT INTO orders (item, quantity) VALUES ('widget', 3), ('gadget', 1), ('gizmo', -2);
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO customers (name) VALUES ('Ada'), ('Grace');
CREATE TABLE "Invoices" (id integer);
INSERT INTO "Invoices" VALUES (1);
)sql";

class DataIntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseRun();
    db_.Sql(kSchema);
  }
  testing::StepOutcome Step(const std::string& action,
                            const std::string& tables = "orders\n  customers \n\nInvoices\n") {
    return host_.Run("data-integrity",
                     {{"database_url", db_.Url()},
                      {"tables", tables},
                      {"state_dir", "/var/lib/rollgate"},
                      {"label", "before_deploy"},
                      {"action", action}},
                     db_.Secrets());
  }

  testing::ScratchDatabase db_;
  testing::LocalStepHost host_;
};

TEST_F(DataIntegrityTest, RecordsCountsThenFindsNothingLost) {
  testing::StepOutcome record = Step("record");
  ASSERT_EQ(record.error, "");
  ASSERT_EQ(record.result.exit_code, 0) << record.result.output_tail;
  EXPECT_EQ(record.facts["count.orders"], "3");
  EXPECT_EQ(record.facts["count.customers"], "2");
  EXPECT_EQ(record.facts["count.Invoices"], "1");
  EXPECT_EQ(record.facts["tables"], "3");
  EXPECT_EQ(record.facts["unvalidated_constraints"], "0");
  EXPECT_EQ(testing::ReadText(host_.root() / "var/lib/rollgate/run-1/before_deploy.counts"),
            "orders 3\ncustomers 2\nInvoices 1\n");

  db_.Sql("INSERT INTO orders (item, quantity) VALUES ('sprocket', 5)");
  testing::StepOutcome compare = Step("compare");
  ASSERT_EQ(compare.result.exit_code, 0) << compare.result.output_tail;
  EXPECT_EQ(compare.facts["count.orders"], "4");
  EXPECT_EQ(compare.facts["recorded.orders"], "3");
  EXPECT_EQ(compare.facts["lost_rows"], "0");
  EXPECT_EQ(compare.facts["unvalidated_constraints"], "0");
}

TEST_F(DataIntegrityTest, FewerRowsThanRecordedFail) {
  ASSERT_EQ(Step("record").result.exit_code, 0);
  db_.Sql("DELETE FROM orders WHERE quantity < 3; DELETE FROM \"Invoices\";");
  testing::StepOutcome compare = Step("compare");
  EXPECT_EQ(compare.result.exit_code, 1) << compare.result.output_tail;
  EXPECT_EQ(compare.facts["lost_rows"], "3");
  EXPECT_EQ(compare.facts["count.orders"], "1");
  EXPECT_NE(compare.result.output_tail.find("rows lost: orders (3 -> 1) Invoices (1 -> 0)"),
            std::string::npos)
      << compare.result.output_tail;
}

TEST_F(DataIntegrityTest, ADroppedTableHasLostAllItsRows) {
  ASSERT_EQ(Step("record").result.exit_code, 0);
  db_.Sql("DROP TABLE customers");
  testing::StepOutcome compare = Step("compare");
  EXPECT_EQ(compare.result.exit_code, 1) << compare.result.output_tail;
  EXPECT_EQ(compare.facts["lost_rows"], "2");
  EXPECT_EQ(compare.facts["count.customers"], "missing");
}

TEST_F(DataIntegrityTest, AConstraintLeftNotValidatedFails) {
  ASSERT_EQ(Step("record").result.exit_code, 0);
  // A migration added a check that existing rows violate, without validating it.
  db_.Sql("ALTER TABLE orders ADD CONSTRAINT quantity_positive CHECK (quantity > 0) NOT VALID");
  testing::StepOutcome compare = Step("compare");
  EXPECT_EQ(compare.result.exit_code, 1) << compare.result.output_tail;
  EXPECT_EQ(compare.facts["unvalidated_constraints"], "1");
  EXPECT_EQ(compare.facts["lost_rows"], "0");
  EXPECT_NE(compare.result.output_tail.find("orders.quantity_positive"), std::string::npos)
      << compare.result.output_tail;
  db_.Sql(
      "UPDATE orders SET quantity = 2 WHERE quantity < 0; "
      "ALTER TABLE orders VALIDATE CONSTRAINT quantity_positive;");
  EXPECT_EQ(Step("compare").result.exit_code, 0);
}

TEST_F(DataIntegrityTest, BadInputOnTheHost) {
  // An unknown table on record; a compare with nothing recorded.
  testing::StepOutcome unknown = Step("record", "orders\nshipments\n");
  EXPECT_EQ(unknown.result.exit_code, 2) << unknown.result.output_tail;
  EXPECT_NE(unknown.result.output_tail.find("no such table: shipments"), std::string::npos);
  EXPECT_FALSE(fs::exists(host_.root() / "var/lib/rollgate/run-1/before_deploy.counts"));
  EXPECT_EQ(Step("compare").result.exit_code, 2);
  // A table compared that was not recorded.
  ASSERT_EQ(Step("record", "orders\n").result.exit_code, 0);
  testing::StepOutcome extra = Step("compare", "orders\ncustomers\n");
  EXPECT_EQ(extra.result.exit_code, 2) << extra.result.output_tail;
  EXPECT_NE(extra.result.output_tail.find("no count recorded for: customers"), std::string::npos);
}

TEST_F(DataIntegrityTest, ProbeSeesTheRecordedCounts) {
  std::map<std::string, std::string> params = {{"database_url", db_.Url()},
                                               {"tables", "orders"},
                                               {"state_dir", "/var/lib/rollgate"},
                                               {"label", "before_deploy"},
                                               {"action", "record"}};
  EXPECT_EQ(*host_.Probe("data-integrity", params), ProbeVerdict::kNotInPlace);
  ASSERT_EQ(Step("record").result.exit_code, 0);
  EXPECT_EQ(*host_.Probe("data-integrity", params), ProbeVerdict::kInPlace);
  params["action"] = "compare";
  EXPECT_EQ(*host_.Probe("data-integrity", params), ProbeVerdict::kNotInPlace);
}

}  // namespace
}  // namespace rollgate
