// The configuration model: what an operations team describes once in rollgate.yaml.
//
// Plain data, produced by config/loader (which validates it) and read by every other layer.
// Every default here is the playbook's; the loader fills it in when the file is silent.
// Thread-safety: immutable after loading; share by const reference.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace rollgate {

// Roles known to Rollgate (playbook §1.2, §2.2, §4.3, §5.2, §6.1, §9). A configuration may add
// its own in `roles:`; these are always known.
inline constexpr const char* kRoleDevelopmentLead = "development-lead";
inline constexpr const char* kRoleTestManager = "test-manager";
inline constexpr const char* kRoleBusinessAnalyst = "business-analyst";
inline constexpr const char* kRoleCabMember = "cab-member";
inline constexpr const char* kRoleCabChair = "cab-chair";
inline constexpr const char* kRoleItOperationsManager = "it-operations-manager";
inline constexpr const char* kRoleSecurityLead = "security-lead";
inline constexpr const char* kRoleEngineer = "engineer";
inline constexpr const char* kRoleTestEngineer = "test-engineer";
inline constexpr const char* kRoleHelpDesk = "help-desk";
inline constexpr const char* kRoleDbaLead = "dba-lead";
inline constexpr const char* kRoleItDirector = "it-director";
inline constexpr const char* kRoleCiso = "ciso";
inline constexpr const char* kRoleAdmin = "admin";

std::vector<std::string> BuiltInRoles();

// How far ahead of the scheduled start a CR must be submitted.
struct LeadTime {
  enum class Kind { kSameDay, kHours, kBusinessDays };
  Kind kind = Kind::kSameDay;
  Seconds duration{0};    // kHours
  int business_days = 0;  // kBusinessDays

  static LeadTime SameDay() { return {Kind::kSameDay, Seconds(0), 0}; }
  static LeadTime Hours(Seconds d) { return {Kind::kHours, d, 0}; }
  static LeadTime BusinessDays(int n) { return {Kind::kBusinessDays, Seconds(0), n}; }
  bool operator==(const LeadTime&) const = default;
};
// "same day", "24h", "5 business days".
std::string DescribeLeadTime(const LeadTime& lead_time);

struct ApprovalPolicy {
  std::vector<std::string> approver_roles;  // any of these roles may approve
  int quorum = 1;                           // distinct approvers needed
  LeadTime lead_time;
  LeadTime emergency_lead_time = LeadTime::Hours(std::chrono::hours(4));
  // Verbal approvals (emergency only) must be confirmed in writing within this time.
  Seconds verbal_confirmation_within = std::chrono::hours(24);
};

// Rollback triggers (playbook §6.1).
enum class TriggerKind {
  kDeploymentFailed,  // a rollout step failed on a node it had changed (stop, install, migrate)
  kHealth,
  kSmoke,
  kAvailability,
  kUsersAffected,
  kResponseTime,
  kDataIntegrity,
  kSecurity,
  kCriticalAlerts,  // a critical alert fires in the system's Prometheus Alertmanager (§4.2)
};

enum class TriggerAction {
  kRollback,  // immediate (automatic) rollback; no authorisation needed (§6.1 "IMMEDIATELY")
  kEvaluate,  // page, wait for a person's decision until the deadline, then the default
  kOff,       // measured and recorded, never acted on
};

// What happens when an evaluate trigger's deadline passes without a decision.
enum class DecisionDefault { kRollback, kContinue };

struct TriggerPolicy {
  TriggerKind kind = TriggerKind::kHealth;
  TriggerAction action = TriggerAction::kRollback;
  // kEvaluate: how long Rollgate waits for a decision, and what applies after that.
  Seconds decision_deadline = std::chrono::minutes(30);
  DecisionDefault on_deadline = DecisionDefault::kRollback;
  bool operator==(const TriggerPolicy&) const = default;
};

// A sign-off the environment needs before the next one may start (playbook §4.3 step 2).
struct SignoffRequirement {
  std::string kind;                // "dev-lead", "test-manager", "business-analyst", "uat", "cab"
  std::vector<std::string> roles;  // who may give it
};

// Thresholds of the exit criteria and rollback triggers (playbook §3, §6.1, §7.3).
struct Thresholds {
  double smoke_pass_rate_percent = 100.0;
  double regression_pass_rate_percent = 95.0;
  double min_free_disk_percent = 20.0;
  double min_availability_percent = 99.5;
  double max_users_affected_percent = 5.0;
  double max_performance_degradation_percent = 20.0;
  double rollback_security_cvss = 7.0;
  Seconds max_rollback_duration = std::chrono::minutes(15);
  Seconds enhanced_monitoring = std::chrono::hours(72);
  Seconds log_check_after = std::chrono::hours(4);
  // The availability trigger's window: health probes over this long (§6.1).
  Seconds availability_window = std::chrono::minutes(10);
  // How long a deployment observes the service at its end (availability and error share, the
  // `observe` step of the verify phase) before it is called done; 0: not at all (the watch
  // still does after a PROD deployment).
  Seconds observe_window = std::chrono::minutes(1);
  // How often the watch probes after a PROD deployment (§4.2 step 4, §5.3 step 5), and the
  // hourly check-ins recorded for the first hours after an emergency change.
  Seconds watch_interval = std::chrono::minutes(1);
  Seconds emergency_checkins_for = std::chrono::hours(8);
  // §7.1 step 6 "Retry deployment if transient error": further attempts of an idempotent step
  // whose failure looks transient (connection reset, timeout, lock held); 0: none.
  int transient_retries = 2;
  // §7: how long each diagnostic check may run on a host before it is stopped.
  Seconds diagnostics_timeout = std::chrono::seconds(20);
};

// Whether an environment's backups are proven by restoring them (playbook §2.4 step 3: "Test
// backup restoration (PROD only, at discretion)"; docs/configuration.md).
enum class BackupVerification {
  kOff,       // `backup verify` is refused (exit 4, naming the setting)
  kOptional,  // people may run `backup verify`; deployments do not verify by themselves
  kRequired,  // the deployment verifies its backups right after taking them, before any change
};
// "off", "optional", "required".
std::string_view BackupVerificationName(BackupVerification mode);
// The mode named `text` (as BackupVerificationName writes it); nullopt for anything else.
std::optional<BackupVerification> ParseBackupVerification(std::string_view text);

// When and whom to tell before a deployment (playbook §2.5).
struct NotificationRule {
  std::vector<std::string> notify;  // contact group names
  Seconds before_min{0};            // 0 = immediately
  Seconds before_max{0};
  std::vector<std::string> channels;  // channel names
};

struct Environment {
  std::string name;  // "DEV", "TEST", "PROD"
  int order = 0;     // promotion order, 0 first
  ApprovalPolicy approval;
  std::vector<SignoffRequirement> signoffs;          // needed to leave this environment
  std::vector<std::string> rollback_approver_roles;  // joint: one of each role (§6.1 step 3)
  Thresholds thresholds;
  NotificationRule notification;
  bool requires_maintenance_window = false;
  bool requires_rollback_tested = false;
  bool rolling = false;               // one node at a time
  std::string batch = "1";            // count or percentage ("25%")
  bool allow_emergency_skip = false;  // the emergency path may skip this environment (TEST)
  BackupVerification backup_verification = BackupVerification::kOff;  // §2.4 step 3
  // Rollback triggers overriding the playbook's defaults, by kind; the
  // loader fills in every kind.
  std::vector<TriggerPolicy> triggers;
};

struct Person {
  std::string name;  // the id used everywhere: "alice"
  std::string full_name;
  std::string email;
  std::string phone;
  std::string unix_user;
  std::vector<std::string> roles;
};

struct HealthEndpoint {
  std::string name;  // "health", "ready", "metrics"
  std::string path;  // "/health"
};

struct SystemHost {
  std::string environment;
  std::vector<std::string> hosts;
};

struct System {
  std::string name;
  std::string description;
  std::string owner;                        // a person
  std::vector<SystemHost> hosts;            // per environment
  std::string service;                      // the service unit or name
  std::string service_manager = "systemd";  // "systemd" or "command"
  std::string start_command, stop_command, status_command;
  std::string app_dir;     // /opt/[application]
  std::string config_dir;  // /etc/[application]
  std::string app_user, app_group;
  int port = 0;
  std::vector<HealthEndpoint> endpoints;
  std::string smoke_command;
  std::string regression_command;
  std::string regression_results;  // JUnit XML path
  // The targeted tests of the emergency path (§5.3 step 2: "smoke test + targeted tests", no
  // full regression): a command run on one host after the rollout; empty: none.
  std::string targeted_test_command;
  std::string log_file;
  std::vector<std::string> error_patterns = {"error", "exception", "fatal"};
  std::string database_url;       // without password
  std::string database_password;  // a secret reference: "env:NAME" or "file:/path"
  // Per-environment databases (environment -> url, password reference); the above otherwise.
  std::map<std::string, std::pair<std::string, std::string>> environment_databases;
  // Deployment layout on the hosts: scratch space for exit-status files, uploaded packages and
  // baselines; where backups go; and, for hosts that live in a directory (the lab), the name of
  // the host-side variable holding that directory, prefixed to every path above.
  std::string work_dir = "/var/tmp/rollgate";
  std::string backup_dir;  // default /var/backups/rollgate/<name>
  std::string host_root_env;

  // Hooks of the rollout (§3.3 step 3, §6.2 step 3): shell commands run on each host, empty
  // when not used: before the node is stopped (drain, then maintenance on) and once it is
  // verified (maintenance off).
  std::string drain_command;
  std::string maintenance_on_command;
  std::string maintenance_off_command;
  // Changes to the built-in procedures (engine/procedures.h): steps left out by name, and steps
  // added at the end of a phase (or after a named step).
  struct ExtraStep {
    std::string phase;  // readiness, transfer, database-backup, rollout, verify, ...
    std::string after;  // a step of that phase; empty: at the end
    std::string name;
    std::string type;
    std::map<std::string, std::string> params;
  };
  std::vector<std::string> skip_steps;
  std::vector<ExtraStep> extra_steps;

  // The database of `environment`: its URL and password reference.
  std::pair<std::string, std::string> DatabaseFor(std::string_view environment) const;
  const SystemHost* HostsIn(std::string_view environment) const;
  std::vector<std::string> critical_tables;
  std::vector<std::string> dependencies;  // "host:port" or URLs checked for readiness

  // Where the users-affected trigger reads the error share (§6.1 "critical defects"): the
  // service's /metrics counters (requests and 5xx answers), or a Prometheus HTTP API query
  // whose value is the percentage of requests in error.
  struct MetricsSource {
    std::string metrics_path = "/metrics";
    std::string requests_metric;  // counter of requests, e.g. "http_requests_total"
    std::string errors_metric;    // counter of requests in error, e.g. "http_errors_total"
    std::string prometheus_url;   // "http://127.0.0.1:9090"
    std::string prometheus_query;
    // Paths the observation probes besides the endpoints, like users would: the critical
    // endpoints ("/api/orders"). Their failures count against availability.
    std::vector<std::string> probe_paths;
  };
  MetricsSource metrics;
  // Where the critical-alerts trigger and the "alerts" evidence look (playbook §4.2 "verify
  // alerting"; docs/watch.md): a Prometheus Alertmanager's API v2, asked for the active alerts
  // (neither silenced nor inhibited) matching `matchers` whose severity label is one of
  // `severities`. `url` empty: not configured. Matchers are Alertmanager's label matchers
  // ("system=billing", "team!=web", "env=~prod|stage"); "{environment}" in a value stands for the
  // environment checked. The loader defaults them to system=<name> and the severities to
  // [critical].
  struct AlertmanagerSource {
    std::string url;  // "http://127.0.0.1:9093"
    std::vector<std::string> matchers;
    std::vector<std::string> severities = {"critical"};
  };
  AlertmanagerSource alertmanager;
  // Per environment: trigger policies overriding the environment's (only the kinds given).
  std::map<std::string, std::vector<TriggerPolicy>> triggers;
  // Before restoring a database that was written to since the backup (after saving a dump of
  // it): "hold" (restore the application and configuration, wait for a person's decision on the
  // database, page the DBA contact) or "restore".
  std::string on_writes_since_backup = "hold";
  // What the §7 diagnostics read besides the fields above: the binaries `ldd` checks (absolute
  // paths; default: the executables in <app_dir>/bin), a configuration syntax check run on the
  // host (`nginx -t`; optional), and a dependency listing (`pip list`, `npm list`; optional).
  struct DiagnosticsSettings {
    std::vector<std::string> binaries;
    std::string config_check;
    std::string dependency_command;
  };
  DiagnosticsSettings diagnostics;
  // The package or product names under which advisories list this system (OSV package names,
  // CSAF product names; domain/triggers.h PackageAffects). The loader defaults it to the name.
  std::vector<std::string> advisory_names;
};

// A person or role reached at an escalation level, with the time to respond.
struct EscalationLevel {
  int level = 1;
  std::string contact;       // a contact name (on-call role), a person, or a role
  Seconds response_time{0};  // 0 = immediate
};

struct EscalationPath {
  std::string name;  // "standard", "production", "security"
  std::vector<EscalationLevel> levels;
};

// The on-call matrix (playbook §9.1): a role's primary and backup people.
struct Contact {
  std::string name;     // "it-operations-on-call"
  std::string primary;  // person
  std::string backup;   // person
  std::string hours = "24/7";
};

// A group of recipients for notifications (playbook §2.5, §9.4).
struct ContactGroup {
  std::string name;  // "development-team"
  std::string email;
  std::string channel;  // "#it-operations"
  std::vector<std::string> people;
};

struct Channel {
  std::string name;
  std::string type;  // "email", "webhook", "command", "file", "alertmanager"
  std::map<std::string, std::string> settings;
};

// A recurring weekly window, or a one-off between two instants.
struct MaintenanceWindow {
  std::string name;
  std::vector<std::string> environments;   // empty = all
  std::vector<std::chrono::weekday> days;  // recurring: days of week
  Seconds start_time{0}, end_time{0};      // recurring: local times of day; end <= start wraps
  std::optional<Timestamp> from, until;    // one-off
};

struct Freeze {
  std::string name;
  std::vector<std::string> environments;  // empty = all
  Timestamp from, until;                  // kOnce
  std::string reason;
  // Recurring freezes (docs/calendar.md): yearly from one month-day to another (whole local days,
  // `yearly_until` included; an end before the start runs into the next year, Dec 15 – Jan 5),
  // or weekly like a maintenance window (days, local start and end, an end at or before the
  // start wraps past midnight).
  enum class Recurrence { kOnce, kYearly, kWeekly };
  Recurrence recurrence = Recurrence::kOnce;
  std::chrono::month_day yearly_from{}, yearly_until{};  // kYearly
  std::vector<std::chrono::weekday> days;                // kWeekly
  Seconds start_time{0}, end_time{0};                    // kWeekly
};

// How patch packages are accepted (playbook §8.1 "downloaded and verified").
struct PackagePolicy {
  // minisign public keys (the base64 "RW..." line) whose signatures are trusted.
  std::vector<std::string> trusted_keys;
  bool require_signature = false;
  int64_t max_bytes = int64_t{2} << 30;  // uncompressed archive size and download size
  bool allow_plain_http = false;         // http:// downloads (tests on loopback only)
};

// `rollgate serve` (docs/server.md): where it listens, TLS, limits, who administers tokens.
struct ServerSettings {
  std::string listen = "127.0.0.1:8420";  // HOST:PORT; HOST an address, not a name
  std::string tls_cert, tls_key;          // PEM files, both or neither (relative to the config)
  int64_t max_body_bytes = int64_t{1} << 20;
  int max_connections = 256;  // served at once; further connections wait in the backlog
  int workers = 0;            // threads running the event loop; 0 = one per core
  Seconds read_timeout{10}, write_timeout{10}, idle_timeout{5};
  int max_page_size = 500;  // `limit` of list routes
  // Who may create and revoke tokens for other people (anyone may for themselves).
  std::vector<std::string> token_admin_roles = {kRoleAdmin, kRoleItOperationsManager};
  // People holding only these roles may read but never act (the help desk).
  std::vector<std::string> read_only_roles = {kRoleHelpDesk};
};

// A configured replacement of a built-in message's subject and/or body, with {placeholder}s
// (domain/message_templates.h). An empty optional keeps the built-in text.
struct MessageTemplateOverride {
  std::optional<std::string> subject;
  std::optional<std::string> body;
};

struct Config {
  std::string source_file;         // where it was loaded from
  std::vector<std::string> roles;  // built-in plus custom
  std::vector<Environment> environments;
  std::vector<Person> people;
  std::vector<System> systems;
  std::vector<Contact> contacts;
  std::vector<ContactGroup> groups;
  std::vector<EscalationPath> escalation;
  std::vector<Channel> channels;
  std::vector<MaintenanceWindow> windows;
  std::vector<Freeze> freezes;
  std::vector<std::chrono::year_month_day> holidays;
  std::vector<std::chrono::weekday> weekend = {std::chrono::Saturday, std::chrono::Sunday};
  PackagePolicy packages;
  bool allow_as = false;             // identity.allow_as
  bool separation_of_duties = true;  // policy.separation_of_duties
  // Attachment kinds required before submitting a P1/P2 CR.
  std::vector<std::string> required_attachments_p1_p2 = {"security-impact-assessment"};
  // Who may grant an emergency approval, verbally or in writing (playbook §5.2 step 1).
  std::vector<std::string> emergency_approver_roles = {kRoleCabChair, kRoleSecurityLead,
                                                       kRoleItOperationsManager};
  // Whom to tell when the emergency path is taken (playbook §2.5, "Emergency" row).
  NotificationRule emergency_notification;
  // The post-implementation review (playbook §4.4 step 3, §5.4; domain/pir.h): due within this
  // many business days of every deployment to the last environment, of an emergency deployment
  // and of a rollback; and the roles whose holders may record its closing (the CAB receives the
  // review, §5.4 step 4; the IT operations manager owns the operational follow-up, §4.4).
  int review_within_business_days = 5;
  std::vector<std::string> review_closer_roles = {kRoleCabChair, kRoleItOperationsManager};
  ServerSettings server;  // `server:` (docs/server.md)
  // The nice value (0..19, relative to Rollgate's own) of the processes a run starts on this
  // machine: the local transport's commands and the ssh clients (execution.command_nice). A step
  // starting a process costs a burst of CPU; at 10 those bursts yield to the server's API and the
  // executor instead of stalling them. 0: the same priority as Rollgate.
  int command_nice = 10;
  // The change calendar (docs/calendar.md): a scheduled CR without a downtime is expected to
  // take this long (calendar.default_duration).
  Seconds calendar_default_duration = std::chrono::hours(1);
  // Who may deploy inside a freeze with `deploy --override-freeze --reason T`
  // (calendar.freeze_override_roles; playbook §5.2: the CAB chair, the IT operations manager).
  std::vector<std::string> freeze_override_roles = {kRoleCabChair, kRoleItOperationsManager};
  // The channels pages go out through (oncall.channels, docs/oncall.md); empty: the page's
  // environment's notification channels, or every channel when the page names no environment.
  std::vector<std::string> page_channels;
  // Durable delivery of notifications (docs/notifications.md): after the Nth failed attempt the
  // next one is due retry_backoff[N-1] later (the last entry repeats); after max_attempts failed
  // attempts the message is failed for good. `notifications: {backoff: [...], max_attempts: N}`.
  std::vector<Seconds> notification_backoff = {Seconds(30), Seconds(120), Seconds(600),
                                               Seconds(1800), Seconds(3600)};
  int notification_max_attempts = 6;
  // Operators' overrides of the built-in message templates, by template name
  // ("deployment-start", ...; domain/message_templates.h): `templates: {NAME: {subject, body}}`.
  std::map<std::string, MessageTemplateOverride> message_templates;

  const Environment* FindEnvironment(std::string_view name) const;
  const Person* FindPerson(std::string_view name) const;
  const Person* FindPersonByUnixUser(std::string_view unix_user) const;
  const System* FindSystem(std::string_view name) const;
  // The environment after `name` in promotion order, or nullptr.
  const Environment* NextEnvironment(std::string_view name) const;
  const Environment* PreviousEnvironment(std::string_view name) const;
  bool PersonHasRole(std::string_view person, std::string_view role) const;
};

}  // namespace rollgate
