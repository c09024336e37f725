#include "config/defaults.h"

#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/starter.h"

namespace rollgate {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using Strings = std::vector<std::string>;

TEST(DefaultConfigTest, ThreeEnvironmentsInPromotionOrder) {
  Config config = DefaultConfig();
  ASSERT_EQ(config.environments.size(), 3u);
  EXPECT_EQ(config.environments[0].name, "DEV");
  EXPECT_EQ(config.environments[1].name, "TEST");
  EXPECT_EQ(config.environments[2].name, "PROD");
  EXPECT_EQ(config.NextEnvironment("DEV")->name, "TEST");
  EXPECT_EQ(config.NextEnvironment("TEST")->name, "PROD");
  EXPECT_EQ(config.NextEnvironment("PROD"), nullptr);
}

TEST(DefaultConfigTest, DevPerPlaybook) {
  Config config = DefaultConfig();
  const Environment& dev = *config.FindEnvironment("DEV");
  // §2.2 step 3.
  EXPECT_EQ(dev.approval.approver_roles, Strings{"development-lead"});
  EXPECT_EQ(dev.approval.quorum, 1);
  EXPECT_EQ(dev.approval.lead_time, LeadTime::SameDay());
  EXPECT_EQ(dev.approval.emergency_lead_time, LeadTime::Hours(hours(4)));
  EXPECT_EQ(dev.approval.verbal_confirmation_within, hours(24));
  // §4.3 step 2.
  ASSERT_EQ(dev.signoffs.size(), 1u);
  EXPECT_EQ(dev.signoffs[0].kind, "dev-lead");
  EXPECT_EQ(dev.signoffs[0].roles, Strings{"development-lead"});
  // §6.1 step 3.
  EXPECT_EQ(dev.rollback_approver_roles, Strings{"development-lead"});
  // §2.5.
  EXPECT_EQ(dev.notification.notify, Strings{"development-team"});
  EXPECT_EQ(dev.notification.before_min, Seconds(0));
  EXPECT_EQ(dev.notification.before_max, Seconds(0));
  EXPECT_FALSE(dev.requires_maintenance_window);
  EXPECT_FALSE(dev.rolling);
  EXPECT_FALSE(dev.allow_emergency_skip);
  // §2.4 step 3: restore tests are for PROD.
  EXPECT_EQ(dev.backup_verification, BackupVerification::kOff);
}

TEST(DefaultConfigTest, TestPerPlaybook) {
  Config config = DefaultConfig();
  const Environment& test = *config.FindEnvironment("TEST");
  EXPECT_EQ(test.approval.approver_roles, Strings{"test-manager"});
  EXPECT_EQ(test.approval.lead_time, LeadTime::Hours(hours(24)));
  ASSERT_EQ(test.signoffs.size(), 3u);
  EXPECT_EQ(test.signoffs[0].kind, "test-manager");
  EXPECT_EQ(test.signoffs[1].kind, "business-analyst");
  EXPECT_EQ(test.signoffs[2].kind, "uat");
  EXPECT_EQ(test.rollback_approver_roles, (Strings{"test-manager", "development-lead"}));
  EXPECT_EQ(test.notification.notify, (Strings{"qa-team", "business-analysts"}));
  EXPECT_EQ(test.notification.before_min, hours(24));
  EXPECT_TRUE(test.allow_emergency_skip);  // §5.3 step 1
  EXPECT_EQ(test.backup_verification, BackupVerification::kOff);
}

TEST(DefaultConfigTest, ProdPerPlaybook) {
  Config config = DefaultConfig();
  const Environment& prod = *config.FindEnvironment("PROD");
  EXPECT_EQ(prod.approval.approver_roles, (Strings{"cab-member", "cab-chair"}));
  EXPECT_EQ(prod.approval.quorum, 1);
  EXPECT_EQ(prod.approval.lead_time, LeadTime::BusinessDays(5));
  EXPECT_EQ(prod.approval.emergency_lead_time, LeadTime::Hours(hours(4)));
  ASSERT_EQ(prod.signoffs.size(), 1u);
  EXPECT_EQ(prod.signoffs[0].kind, "cab");
  EXPECT_EQ(prod.signoffs[0].roles, Strings{"cab-chair"});
  EXPECT_EQ(prod.rollback_approver_roles, (Strings{"cab-chair", "it-operations-manager"}));
  EXPECT_EQ(prod.notification.notify, Strings{"all-stakeholders"});
  EXPECT_EQ(prod.notification.before_min, hours(48));
  EXPECT_EQ(prod.notification.before_max, hours(72));
  EXPECT_EQ(prod.notification.channels, Strings{"email"});
  EXPECT_TRUE(prod.requires_maintenance_window);
  EXPECT_TRUE(prod.requires_rollback_tested);
  EXPECT_TRUE(prod.rolling);
  EXPECT_EQ(prod.batch, "1");
  EXPECT_FALSE(prod.allow_emergency_skip);
  // §2.4 step 3: "PROD only, at discretion".
  EXPECT_EQ(prod.backup_verification, BackupVerification::kOptional);
}

TEST(DefaultConfigTest, Thresholds) {
  Config config = DefaultConfig();
  const Thresholds& t = config.FindEnvironment("PROD")->thresholds;
  EXPECT_DOUBLE_EQ(t.smoke_pass_rate_percent, 100.0);
  EXPECT_DOUBLE_EQ(t.regression_pass_rate_percent, 95.0);
  EXPECT_DOUBLE_EQ(t.min_free_disk_percent, 20.0);
  EXPECT_DOUBLE_EQ(t.min_availability_percent, 99.5);
  EXPECT_DOUBLE_EQ(t.max_users_affected_percent, 5.0);
  EXPECT_DOUBLE_EQ(t.max_performance_degradation_percent, 20.0);
  EXPECT_DOUBLE_EQ(t.rollback_security_cvss, 7.0);
  EXPECT_EQ(t.max_rollback_duration, minutes(15));
  EXPECT_EQ(t.enhanced_monitoring, hours(72));
  EXPECT_EQ(t.log_check_after, hours(4));
}

TEST(DefaultConfigTest, EmergencyPolicyIdentityAndCalendar) {
  Config config = DefaultConfig();
  EXPECT_EQ(config.emergency_approver_roles,
            (Strings{"cab-chair", "security-lead", "it-operations-manager"}));
  EXPECT_EQ(config.emergency_notification.notify, (Strings{"security-team", "cab-chair"}));
  EXPECT_EQ(config.emergency_notification.before_min, Seconds(0));
  EXPECT_FALSE(config.allow_as);
  EXPECT_TRUE(config.separation_of_duties);
  EXPECT_EQ(config.required_attachments_p1_p2, Strings{"security-impact-assessment"});
  EXPECT_EQ(config.review_within_business_days, 5);
  EXPECT_EQ(config.review_closer_roles, (Strings{kRoleCabChair, kRoleItOperationsManager}));
  EXPECT_EQ(config.weekend,
            (std::vector<std::chrono::weekday>{std::chrono::Saturday, std::chrono::Sunday}));
  EXPECT_EQ(config.roles, BuiltInRoles());
  EXPECT_TRUE(config.people.empty());
  EXPECT_TRUE(config.systems.empty());
}

TEST(DefaultConfigTest, EscalationPaths) {
  Config config = DefaultConfig();
  ASSERT_EQ(config.escalation.size(), 3u);
  const EscalationPath& standard = config.escalation[0];
  EXPECT_EQ(standard.name, "standard");
  ASSERT_EQ(standard.levels.size(), 3u);
  EXPECT_EQ(standard.levels[0].response_time, minutes(15));
  EXPECT_EQ(standard.levels[1].response_time, minutes(30));
  EXPECT_EQ(standard.levels[2].response_time, hours(1));
  const EscalationPath& production = config.escalation[1];
  ASSERT_EQ(production.levels.size(), 4u);
  EXPECT_EQ(production.levels[1].contact, "it-operations-manager");
  EXPECT_EQ(production.levels[2].contact, "cab-chair");
  EXPECT_EQ(production.levels[3].contact, "it-director");
  EXPECT_EQ(production.levels[3].response_time, hours(2));
  EXPECT_EQ(production.levels[3].level, 4);
  const EscalationPath& security = config.escalation[2];
  ASSERT_EQ(security.levels.size(), 3u);
  EXPECT_EQ(security.levels[0].contact, "security-on-call");
  EXPECT_EQ(security.levels[0].response_time, Seconds(0));
  EXPECT_EQ(security.levels[1].response_time, minutes(15));
  EXPECT_EQ(security.levels[2].contact, "ciso");
  EXPECT_EQ(security.levels[2].response_time, minutes(30));
}

TEST(DefaultConfigTest, ContactsAndGroups) {
  Config config = DefaultConfig();
  ASSERT_EQ(config.contacts.size(), 5u);
  EXPECT_EQ(config.contacts[0].name, "it-operations-on-call");
  EXPECT_EQ(config.contacts[0].hours, "24/7");
  std::vector<std::string> groups;
  for (const auto& g : config.groups) groups.push_back(g.name);
  for (const char* expected : {"it-operations", "development-team", "qa-team", "security-team",
                               "change-management", "business-analysts", "all-stakeholders"}) {
    EXPECT_NE(std::find(groups.begin(), groups.end(), expected), groups.end()) << expected;
  }
  EXPECT_EQ(config.groups[3].channel, "#security-incidents");
}

TEST(ConfigDefaultEnvironmentTest, NameIsCaseInsensitiveOtherwiseGeneric) {
  Environment prod = DefaultEnvironment("prod");
  EXPECT_EQ(prod.name, "prod");
  EXPECT_EQ(prod.approval.lead_time, LeadTime::BusinessDays(5));
  Environment staging = DefaultEnvironment("STAGING");
  EXPECT_TRUE(staging.approval.approver_roles.empty());
  EXPECT_TRUE(staging.signoffs.empty());
  EXPECT_EQ(staging.approval.emergency_lead_time, LeadTime::Hours(hours(4)));
}

TEST(StarterConfigTest, LoadsWithZeroErrors) {
  FixedOffsetZone utc(Seconds(0));
  LoadResult result = LoadConfigText(StarterConfigYaml(), "rollgate.yaml", utc);
  for (const auto& error : result.errors) ADD_FAILURE() << FormatConfigError(error);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->people.size(), BuiltInRoles().size());
  for (const std::string& role : BuiltInRoles()) {
    bool held = false;
    for (const Person& person : result.config->people) {
      held = held || result.config->PersonHasRole(person.name, role);
    }
    EXPECT_TRUE(held) << "no example person holds " << role;
  }
  ASSERT_EQ(result.config->systems.size(), 1u);
  EXPECT_EQ(result.config->systems[0].database_password, "env:BILLING_DB_PASSWORD");
  EXPECT_FALSE(result.config->windows.empty());
  EXPECT_FALSE(result.config->holidays.empty());
  EXPECT_FALSE(result.config->freezes.empty());
}

TEST(StarterConfigTest, SpellsOutEveryPlaybookDefault) {
  FixedOffsetZone utc(Seconds(0));
  LoadResult result = LoadConfigText(StarterConfigYaml(), "rollgate.yaml", utc);
  ASSERT_TRUE(result.ok());
  const Config& starter = *result.config;
  Config defaults = DefaultConfig();
  ASSERT_EQ(starter.environments.size(), defaults.environments.size());
  for (size_t i = 0; i < defaults.environments.size(); ++i) {
    const Environment& a = starter.environments[i];
    const Environment& b = defaults.environments[i];
    SCOPED_TRACE(b.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.order, b.order);
    EXPECT_EQ(a.approval.approver_roles, b.approval.approver_roles);
    EXPECT_EQ(a.approval.quorum, b.approval.quorum);
    EXPECT_EQ(a.approval.lead_time, b.approval.lead_time);
    EXPECT_EQ(a.approval.emergency_lead_time, b.approval.emergency_lead_time);
    EXPECT_EQ(a.approval.verbal_confirmation_within, b.approval.verbal_confirmation_within);
    ASSERT_EQ(a.signoffs.size(), b.signoffs.size());
    for (size_t k = 0; k < a.signoffs.size(); ++k) {
      EXPECT_EQ(a.signoffs[k].kind, b.signoffs[k].kind);
      EXPECT_EQ(a.signoffs[k].roles, b.signoffs[k].roles);
    }
    EXPECT_EQ(a.rollback_approver_roles, b.rollback_approver_roles);
    EXPECT_EQ(a.notification.notify, b.notification.notify);
    EXPECT_EQ(a.notification.before_min, b.notification.before_min);
    EXPECT_EQ(a.notification.before_max, b.notification.before_max);
    EXPECT_EQ(a.notification.channels, b.notification.channels);
    EXPECT_EQ(a.requires_maintenance_window, b.requires_maintenance_window);
    EXPECT_EQ(a.requires_rollback_tested, b.requires_rollback_tested);
    EXPECT_EQ(a.rolling, b.rolling);
    EXPECT_EQ(a.batch, b.batch);
    EXPECT_EQ(a.allow_emergency_skip, b.allow_emergency_skip);
    EXPECT_EQ(a.backup_verification, b.backup_verification);
    EXPECT_DOUBLE_EQ(a.thresholds.regression_pass_rate_percent,
                     b.thresholds.regression_pass_rate_percent);
    EXPECT_DOUBLE_EQ(a.thresholds.min_availability_percent, b.thresholds.min_availability_percent);
    EXPECT_DOUBLE_EQ(a.thresholds.rollback_security_cvss, b.thresholds.rollback_security_cvss);
    EXPECT_EQ(a.thresholds.max_rollback_duration, b.thresholds.max_rollback_duration);
    EXPECT_EQ(a.thresholds.enhanced_monitoring, b.thresholds.enhanced_monitoring);
    EXPECT_EQ(a.thresholds.log_check_after, b.thresholds.log_check_after);
  }
  EXPECT_EQ(starter.emergency_approver_roles, defaults.emergency_approver_roles);
  EXPECT_EQ(starter.emergency_notification.notify, defaults.emergency_notification.notify);
  EXPECT_EQ(starter.emergency_notification.channels, defaults.emergency_notification.channels);
  EXPECT_EQ(starter.allow_as, defaults.allow_as);
  EXPECT_EQ(starter.separation_of_duties, defaults.separation_of_duties);
  EXPECT_EQ(starter.required_attachments_p1_p2, defaults.required_attachments_p1_p2);
  EXPECT_EQ(starter.review_within_business_days, defaults.review_within_business_days);
  EXPECT_EQ(starter.review_closer_roles, defaults.review_closer_roles);
  EXPECT_EQ(starter.weekend, defaults.weekend);
  ASSERT_EQ(starter.escalation.size(), defaults.escalation.size());
  for (size_t i = 0; i < defaults.escalation.size(); ++i) {
    ASSERT_EQ(starter.escalation[i].levels.size(), defaults.escalation[i].levels.size());
    for (size_t k = 0; k < defaults.escalation[i].levels.size(); ++k) {
      EXPECT_EQ(starter.escalation[i].levels[k].contact, defaults.escalation[i].levels[k].contact);
      EXPECT_EQ(starter.escalation[i].levels[k].response_time,
                defaults.escalation[i].levels[k].response_time);
    }
  }
  ASSERT_EQ(starter.contacts.size(), defaults.contacts.size());
  for (size_t i = 0; i < defaults.contacts.size(); ++i) {
    EXPECT_EQ(starter.contacts[i].name, defaults.contacts[i].name);
  }
  ASSERT_EQ(starter.groups.size(), defaults.groups.size());
  for (size_t i = 0; i < defaults.groups.size(); ++i) {
    EXPECT_EQ(starter.groups[i].name, defaults.groups[i].name);
    EXPECT_EQ(starter.groups[i].email, defaults.groups[i].email);
    EXPECT_EQ(starter.groups[i].channel, defaults.groups[i].channel);
  }
  ASSERT_EQ(starter.channels.size(), defaults.channels.size());
  for (size_t i = 0; i < defaults.channels.size(); ++i) {
    EXPECT_EQ(starter.channels[i].name, defaults.channels[i].name);
    EXPECT_EQ(starter.channels[i].type, defaults.channels[i].type);
    EXPECT_EQ(starter.channels[i].settings, defaults.channels[i].settings);
  }
}

TEST(StarterConfigTest, CitesThePlaybook) {
  std::string text = StarterConfigYaml();
  for (const char* section :
       {"§2.2", "§2.3", "§2.5", "§3.3", "§4.3", "§5.2", "§6.1", "§9.1", "§9.2", "§9.4"}) {
    EXPECT_NE(text.find(section), std::string::npos) << section;
  }
}

}  // namespace
}  // namespace rollgate
