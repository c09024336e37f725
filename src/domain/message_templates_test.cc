#include "domain/message_templates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/rollback_messages.h"

namespace rollgate {
namespace {

using ::testing::HasSubstr;

TEST(MessageTemplates, RendersPlaceholdersAndLiteralBraces) {
  auto text = RenderTemplateText("{cr} on {environment} {{not a placeholder}}",
                                 {{"cr", "CR-4"}, {"environment", "PROD"}});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "CR-4 on PROD {not a placeholder}");
  EXPECT_FALSE(RenderTemplateText("{nope}", {}).ok());
  EXPECT_FALSE(RenderTemplateText("{cr", {{"cr", "x"}}).ok());
  EXPECT_FALSE(RenderTemplateText("cr}", {{"cr", "x"}}).ok());
}

TEST(MessageTemplates, ChecksTemplateNamesAndPlaceholders) {
  EXPECT_TRUE(CheckTemplateText("deployment-start", "{system} {version} {started}").ok());
  Status unknown = CheckTemplateText("deployment-begin", "x");
  EXPECT_THAT(unknown.message(), HasSubstr("unknown message template 'deployment-begin'"));
  Status placeholder = CheckTemplateText("rollback-start", "{colour}");
  EXPECT_THAT(placeholder.message(), HasSubstr("unknown placeholder {colour}"));
}

TEST(MessageTemplates, EveryBuiltInMessageCanBeRenderedFromItsValues) {
  DeploymentFacts facts;
  facts.system = "billing";
  facts.environment = "PROD";
  facts.change_request = "CR-9";
  facts.patch = "PATCH-2 3.0.15";
  facts.run = "RUN-3";
  facts.outcome = "SUCCESS";
  FixedOffsetZone utc(Seconds(0));
  Timestamp t{};
  for (const Message& m :
       {DeploymentStartMessage(facts, utc), DeploymentCompleteMessage(facts, utc),
        RollbackStartMessage(facts, utc), RollbackCompleteMessage(facts, utc),
        RollbackProgressMessage(facts, "restore", "running", "", t, utc),
        DecisionNeededMessage(facts, "error rate 7%", t, "rollback", utc),
        DatabaseHeldMessage(facts, "12 rows", "/var/backups/now.dump", utc)}) {
    ASSERT_TRUE(MessageTemplatePlaceholders().contains(m.template_name)) << m.template_name;
    for (const std::string& placeholder : MessageTemplatePlaceholders().at(m.template_name)) {
      EXPECT_TRUE(m.values.contains(placeholder)) << m.template_name << " " << placeholder;
    }
  }
}

TEST(MessageTemplates, TheEmergencyApprovalRequestCanBeRenderedFromItsValues) {
  ChangeRequest cr;
  cr.id = "CR-5";
  cr.system = "billing";
  Patch patch;
  patch.id = "PATCH-5";
  patch.cves = {"CVE-2026-1"};
  FixedOffsetZone utc(Seconds(0));
  Message m = EmergencyApprovalRequestMessage(cr, patch, "PROD", "Heidi", Timestamp{}, utc);
  ASSERT_EQ(m.template_name, "emergency-approval-request");
  for (const std::string& placeholder : MessageTemplatePlaceholders().at(m.template_name)) {
    EXPECT_TRUE(m.values.contains(placeholder)) << placeholder;
  }
  Config config;
  config.message_templates[m.template_name] = {"Approve {cr} ({references}) for {environment}",
                                               std::nullopt};
  EXPECT_EQ(ApplyTemplateOverride(config, m).subject, "Approve CR-5 (CVE-2026-1) for PROD");
}

TEST(MessageTemplates, OverrideReplacesOnlyWhatIsConfigured) {
  DeploymentFacts facts;
  facts.system = "billing";
  facts.environment = "PROD";
  facts.change_request = "CR-9";
  facts.patch = "PATCH-2 3.0.15";
  FixedOffsetZone utc(Seconds(0));
  Message built_in = DeploymentStartMessage(facts, utc);
  Config config;
  config.message_templates["deployment-start"] = {"{system} {version} starts", std::nullopt};
  Message m = ApplyTemplateOverride(config, built_in);
  EXPECT_EQ(m.subject, "billing 3.0.15 starts");
  EXPECT_EQ(m.body, built_in.body);
  config.message_templates["deployment-start"] = {std::nullopt, "Body for {cr}"};
  EXPECT_EQ(ApplyTemplateOverride(config, built_in).body, "Body for CR-9");
  Message ad_hoc{"hello", "world", "", {}};
  EXPECT_EQ(ApplyTemplateOverride(config, ad_hoc).subject, "hello");
}

}  // namespace
}  // namespace rollgate
