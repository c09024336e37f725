#include "config/defaults.h"

#include <string>

#include "common/strings.h"
#include "domain/triggers.h"

namespace rollgate {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

NotificationRule Notify(std::vector<std::string> audience, Seconds before_min, Seconds before_max,
                        std::vector<std::string> channels) {
  NotificationRule rule;
  rule.notify = std::move(audience);
  rule.before_min = before_min;
  rule.before_max = before_max;
  rule.channels = std::move(channels);
  return rule;
}

}  // namespace

Environment DefaultEnvironment(std::string_view name) {
  Environment env;
  env.name = std::string(name);
  std::string lowered = ToLower(name);
  if (lowered == "dev") {
    // §2.2 step 3: Development Lead approval, same day. §4.3: DEV -> TEST needs the Development
    // Lead's sign-off. §6.1 step 3: the lead developer authorises a rollback. §2.5: the
    // development team, immediately, Teams/Email.
    env.order = 0;
    env.approval.approver_roles = {kRoleDevelopmentLead};
    env.approval.lead_time = LeadTime::SameDay();
    env.signoffs = {{"dev-lead", {kRoleDevelopmentLead}}};
    env.rollback_approver_roles = {kRoleDevelopmentLead};
    env.notification = Notify({"development-team"}, Seconds(0), Seconds(0), {"teams", "email"});
  } else if (lowered == "test") {
    // §2.2 step 3: Test Manager approval, 24-hour lead time. §4.3 / §3.2 step 10: TEST -> PROD
    // needs the Test Manager's and a Business Analyst's sign-off and UAT sign-off. §6.1: Test
    // Manager + Development Lead jointly authorise a rollback. §2.5: QA team and business
    // analysts, 24 hours before. §5.3 step 1: the emergency path may skip TEST.
    env.order = 1;
    env.approval.approver_roles = {kRoleTestManager};
    env.approval.lead_time = LeadTime::Hours(hours(24));
    env.signoffs = {{"test-manager", {kRoleTestManager}},
                    {"business-analyst", {kRoleBusinessAnalyst}},
                    {"uat", {kRoleBusinessAnalyst}}};
    env.rollback_approver_roles = {kRoleTestManager, kRoleDevelopmentLead};
    env.notification =
        Notify({"qa-team", "business-analysts"}, hours(24), hours(24), {"teams", "email"});
    env.allow_emergency_skip = true;
  } else if (lowered == "prod") {
    // §2.2 step 3: CAB approval, 5 business days (emergency 4-24 hours; 4 h is the floor).
    // §4.3: the CAB Chair signs PROD off. §6.1: CAB Chair + IT Operations Manager jointly
    // authorise a rollback. §2.5: all stakeholders, 48-72 hours before, by e-mail. §3.3
    // prerequisites: maintenance window confirmed, rollback plan tested; step 4: rolling, one
    // node at a time.
    env.order = 2;
    env.approval.approver_roles = {kRoleCabMember, kRoleCabChair};
    env.approval.quorum = 1;
    env.approval.lead_time = LeadTime::BusinessDays(5);
    env.signoffs = {{"cab", {kRoleCabChair}}};
    env.rollback_approver_roles = {kRoleCabChair, kRoleItOperationsManager};
    env.notification = Notify({"all-stakeholders"}, hours(48), hours(72), {"email"});
    env.requires_maintenance_window = true;
    env.requires_rollback_tested = true;
    env.rolling = true;
    env.batch = std::string(1, '1');  // not = "1": GCC 12 -O2 -Wrestrict false positive
    // §2.4 step 3: "Test backup restoration (PROD only, at discretion)": people may verify
    // PROD's backups with `backup verify --restore`; DEV and TEST keep the default, off.
    env.backup_verification = BackupVerification::kOptional;
  }
  // Every environment: emergency lead time 4 h (§5.3 step 3), verbal approvals confirmed in
  // writing within 24 h (§5.2 step 3), thresholds of §2.3, §3.x, §6.1, §7.3 (Thresholds).
  env.approval.emergency_lead_time = LeadTime::Hours(hours(4));
  env.approval.verbal_confirmation_within = hours(24);
  return env;
}

std::vector<ContactGroup> DefaultContactGroups() {
  // §9.4 internal contacts, named after the audiences of §2.5.
  return {
      {"it-operations", "it-ops@example.com", "#it-operations", {}},
      {"development-team", "dev-team@example.com", "#development", {}},
      {"qa-team", "qa@example.com", "#qa-team", {}},
      {"security-team", "security@example.com", "#security-incidents", {}},
      {"change-management", "cab@example.com", "#change-management", {}},
      {"business-analysts", "business-analysts@example.com", "", {}},
      {"all-stakeholders", "stakeholders@example.com", "", {}},
  };
}

std::vector<Contact> DefaultContacts() {
  // §9.1 on-call matrix; primary and backup are the organisation's people.
  return {
      {"it-operations-on-call", "", "", "24/7"}, {"development-on-call", "", "", "24/7"},
      {"dba-on-call", "", "", "24/7"},           {"security-on-call", "", "", "24/7"},
      {"network-on-call", "", "", "24/7"},
  };
}

std::vector<EscalationPath> DefaultEscalationPaths() {
  // §9.2. "On-Call Engineer" is the IT operations on-call contact, "Team Lead" the development
  // lead, "Manager" the IT operations manager.
  return {
      {"standard",
       {{1, "it-operations-on-call", minutes(15)},
        {2, kRoleDevelopmentLead, minutes(30)},
        {3, kRoleItOperationsManager, hours(1)}}},
      {"production",
       {{1, "it-operations-on-call", minutes(15)},
        {2, kRoleItOperationsManager, minutes(30)},
        {3, kRoleCabChair, hours(1)},
        {4, kRoleItDirector, hours(2)}}},
      {"security",
       {{1, "security-on-call", Seconds(0)},
        {2, kRoleSecurityLead, minutes(15)},
        {3, kRoleCiso, minutes(30)}}},
  };
}

std::vector<Channel> DefaultChannels() {
  // §2.5 channels: Teams, Email, Phone. Until the organisation points them at its servers they
  // write every message to files in outbox/ beside the configuration: nothing leaves the
  // machine, and nothing is lost.
  return {{"email", "file", {{"path", "outbox/email.txt"}}},
          {"teams", "file", {{"path", "outbox/teams.txt"}}},
          {"phone", "file", {{"path", "outbox/phone.txt"}}}};
}

Config DefaultConfig() {
  Config config;
  config.roles = BuiltInRoles();
  config.environments = {DefaultEnvironment("DEV"), DefaultEnvironment("TEST"),
                         DefaultEnvironment("PROD")};
  config.contacts = DefaultContacts();
  config.groups = DefaultContactGroups();
  config.escalation = DefaultEscalationPaths();
  config.channels = DefaultChannels();
  config.weekend = {std::chrono::Saturday, std::chrono::Sunday};
  config.allow_as = false;
  config.separation_of_duties = true;
  config.required_attachments_p1_p2 = {"security-impact-assessment"};
  config.emergency_approver_roles = {kRoleCabChair, kRoleSecurityLead, kRoleItOperationsManager};
  // §4.4 step 3 and §5.4 step 1: the review within 5 business days; closed by the CAB chair (to
  // whom it is submitted, §5.4 step 4) or the IT operations manager.
  config.review_within_business_days = 5;
  config.review_closer_roles = {kRoleCabChair, kRoleItOperationsManager};
  // §2.5 "Emergency": Security Team and CAB Chair, immediately, by phone and Teams.
  config.emergency_notification =
      Notify({"security-team", kRoleCabChair}, Seconds(0), Seconds(0), {"phone", "teams"});
  // §6.1: the rollback triggers' table, smoke evaluated in the last environment (PROD).
  for (Environment& env : config.environments) env.triggers = DefaultTriggerPolicies(config, env);
  return config;
}

}  // namespace rollgate
