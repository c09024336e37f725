#include "testing/sample_config.h"

#include <chrono>
#include <cstdlib>

#include "domain/classification.h"
#include "domain/cr_lifecycle.h"
#include "testing/fake_clock.h"

namespace rollgate::testing {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

Person MakePerson(std::string name, std::string full_name, std::vector<std::string> roles) {
  Person p;
  p.email = name + "@example.com";
  p.unix_user = name;
  p.phone = "+1-555-0100";
  p.name = std::move(name);
  p.full_name = std::move(full_name);
  p.roles = std::move(roles);
  return p;
}

Environment Dev() {
  Environment e;
  e.name = "DEV";
  e.order = 0;
  e.approval.approver_roles = {kRoleDevelopmentLead};
  e.approval.lead_time = LeadTime::SameDay();
  e.signoffs = {{"dev-lead", {kRoleDevelopmentLead}}};
  e.rollback_approver_roles = {kRoleDevelopmentLead};
  e.notification = {{"development-team"}, Seconds(0), Seconds(0), {"email", "teams"}};
  return e;
}

Environment Test() {
  Environment e;
  e.name = "TEST";
  e.order = 1;
  e.approval.approver_roles = {kRoleTestManager};
  e.approval.lead_time = LeadTime::Hours(hours(24));
  e.signoffs = {{"test-manager", {kRoleTestManager}},
                {"business-analyst", {kRoleBusinessAnalyst}},
                {"uat", {kRoleBusinessAnalyst}}};
  e.rollback_approver_roles = {kRoleTestManager, kRoleDevelopmentLead};
  e.notification = {{"qa-team", "business-analysts"}, hours(24), hours(24), {"email", "teams"}};
  e.allow_emergency_skip = true;
  return e;
}

Environment Prod() {
  Environment e;
  e.name = "PROD";
  e.order = 2;
  e.approval.approver_roles = {kRoleCabMember, kRoleCabChair};
  e.approval.lead_time = LeadTime::BusinessDays(5);
  e.signoffs = {{"cab", {kRoleCabChair}}};
  e.rollback_approver_roles = {kRoleCabChair, kRoleItOperationsManager};
  e.notification = {{"all-stakeholders"}, hours(48), hours(72), {"email"}};
  e.requires_maintenance_window = true;
  e.requires_rollback_tested = true;
  e.rolling = true;
  return e;
}

System Billing() {
  System s;
  s.name = "billing";
  s.description = "Customer billing service";
  s.owner = "dana";
  s.hosts = {{"DEV", {"dev-billing-1"}},
             {"TEST", {"test-billing-1"}},
             {"PROD", {"prod-billing-1", "prod-billing-2"}}};
  s.service = "billing";
  s.app_dir = "/opt/billing";
  s.config_dir = "/etc/billing";
  s.app_user = "billing";
  s.app_group = "billing";
  s.port = 8080;
  s.endpoints = {{"health", "/health"}, {"ready", "/ready"}, {"metrics", "/metrics"}};
  s.smoke_command = "/opt/billing/tests/smoke-test.sh";
  s.regression_command = "/opt/billing/tests/run-regression.sh";
  s.regression_results = "/opt/billing/tests/results/junit.xml";
  s.log_file = "/var/log/billing/application.log";
  s.database_url = "postgresql://billing@localhost/billing";
  s.database_password = "env:BILLING_DB_PASSWORD";
  s.critical_tables = {"invoices", "customers"};
  return s;
}

std::vector<EscalationPath> Escalation() {
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

MaintenanceWindow Window(std::string name, std::vector<std::string> envs,
                         std::vector<std::chrono::weekday> days, Seconds start, Seconds end) {
  MaintenanceWindow w;
  w.name = std::move(name);
  w.environments = std::move(envs);
  w.days = std::move(days);
  w.start_time = start;
  w.end_time = end;
  return w;
}

}  // namespace

Config SampleConfig() {
  using namespace std::chrono;
  Config c;
  c.source_file = "sample-config";
  c.roles = BuiltInRoles();
  c.environments = {Dev(), Test(), Prod()};
  c.people = {
      MakePerson("dana", "Dana Dev-Lead", {kRoleDevelopmentLead}),
      MakePerson("tina", "Tina Test-Manager", {kRoleTestManager}),
      MakePerson("bea", "Bea Business-Analyst", {kRoleBusinessAnalyst}),
      MakePerson("carl", "Carl CAB-Member", {kRoleCabMember}),
      MakePerson("cora", "Cora CAB-Member", {kRoleCabMember}),
      MakePerson("chris", "Chris CAB-Chair", {kRoleCabChair, kRoleCabMember}),
      MakePerson("opal", "Opal IT-Operations-Manager", {kRoleItOperationsManager}),
      MakePerson("sam", "Sam Security-Lead", {kRoleSecurityLead}),
      MakePerson("eve", "Eve Engineer", {kRoleEngineer}),
      MakePerson("ed", "Ed Engineer", {kRoleEngineer, kRoleTestEngineer}),
      MakePerson("hal", "Hal Help-Desk", {kRoleHelpDesk}),
      MakePerson("dora", "Dora DBA-Lead", {kRoleDbaLead}),
      MakePerson("ada", "Ada Admin", {kRoleEngineer, kRoleAdmin}),
  };
  c.systems = {Billing()};
  c.contacts = {{"it-operations-on-call", "eve", "ed", "24/7"},
                {"development-on-call", "dana", "ed", "24/7"},
                {"dba-on-call", "dora", "opal", "24/7"},
                {"security-on-call", "sam", "opal", "24/7"},
                {"network-on-call", "opal", "eve", "24/7"}};
  c.groups = {
      {"development-team", "dev-team@example.com", "#development", {"dana", "eve", "ed"}},
      {"qa-team", "qa@example.com", "#qa-team", {"tina", "ed"}},
      {"business-analysts", "ba@example.com", "#qa-team", {"bea"}},
      {"security-team", "security@example.com", "#security-incidents", {"sam"}},
      {"change-management", "cab@example.com", "#change-management", {"carl", "cora", "chris"}},
      {"all-stakeholders",
       "it-ops@example.com",
       "#it-operations",
       {"dana", "tina", "bea", "chris", "opal", "hal"}}};
  c.escalation = Escalation();
  c.channels = {{"email", "email", {{"smtp", "localhost:25"}, {"from", "rollgate@example.com"}}},
                {"teams", "webhook", {{"url", "http://127.0.0.1:9/teams"}}}};
  c.windows = {Window("prod-sunday-night", {"PROD"}, {Sunday}, hours(2), hours(6)),
               Window("nightly", {"DEV", "TEST"}, {}, hours(22), hours(6))};
  c.holidays = {2026y / December / 25, 2026y / December / 26, 2027y / January / 1};
  return c;
}

Patch SamplePatch(double cvss_score, bool exploited) {
  Patch p;
  p.id = "PATCH-1";
  p.title = "billing 2.4.1 security update";
  p.source = PatchSource::kVendorAdvisory;
  p.cves = {"CVE-2026-12345"};
  p.references = {"KB-5001"};
  p.version = "2.4.1";
  p.cvss.push_back({"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", cvss_score, ""});
  p.exploited = exploited;
  p.created_by = "eve";
  p.created_at = MondayMorning();
  p.classification = Classify(p);
  return p;
}

ChangeRequest SampleChangeRequest(const Config& config, const Patch& patch) {
  CrDraft draft;
  draft.number = 1;
  draft.system = "billing";
  draft.description = "Apply billing 2.4.1 fixing CVE-2026-12345";
  draft.implementation_plan = "Rolling deployment per playbook §3";
  draft.rollback_plan = "Restore /opt/billing and the database from the pre-deployment backup";
  draft.risk_assessment = "Low risk: library update, no schema change";
  draft.test_plan = "Smoke tests, full regression in TEST, UAT by business analysts";
  draft.expected_downtime = std::chrono::minutes(15);
  draft.expected_duration = std::chrono::minutes(45);
  draft.requester = "eve";
  auto created =
      NewChangeRequest(draft, patch, config, MondayMorning(), FixedOffsetZone(Seconds(0)));
  if (!created.ok()) std::abort();  // the sample configuration always has billing and eve
  return created->cr;
}

}  // namespace rollgate::testing
