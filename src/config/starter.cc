#include "config/starter.h"

namespace rollgate {

std::string StarterConfigYaml() {
  return R"yaml(# rollgate.yaml — how this organisation runs the Patch Management Operational Playbook.
#
# Written by `rollgate init`. Every value below is the playbook's default, spelled out so you can
# see and change it; "§" numbers cite the playbook. Leave a section out and Rollgate uses the same
# default. Check your edits with `rollgate validate` (errors come as FILE:LINE:COL: message).
# The full reference of every key is docs/configuration.md.

version: 1

# Who is acting. Rollgate maps the OS user to a person through people[].unix_user. allow_as lets
# `--as PERSON` pretend to be someone else: only for demos and tests, never in production.
identity:
  allow_as: false

policy:
  # The requester of a change request can neither approve nor sign off their own CR.
  separation_of_duties: true
  # §2.2 step 2: attachments required before a P1 or P2 CR can be submitted.
  required_attachments_p1_p2: [security-impact-assessment]
  # §4.4 step 3, §5.4: a review is due within this many business days of every PROD deployment,
  # emergency deployment or rollback; holders of these roles record its closing (`rollgate pir`).
  review_within_business_days: 5
  review_closer_roles: [cab-chair, it-operations-manager]

# Patch packages (§8.1 "patch package downloaded and verified"). Every package is hashed
# (SHA-256) and inspected before it is accepted: absolute paths, '..', links leaving the archive,
# device nodes, FIFOs and setuid/setgid bits are refused. Signatures are minisign signatures
# checked against these public keys (the "RW..." line of a .pub file).
packages:
  trusted_keys: []
  require_signature: false
  max_size_mib: 2048

# Custom roles, in addition to the built-in ones: development-lead, test-manager,
# business-analyst, cab-member, cab-chair, it-operations-manager, security-lead, engineer,
# test-engineer, help-desk, dba-lead, it-director, ciso, admin.
roles: []

calendar:
  # Lead times in business days skip the weekend and the holidays (§2.2 step 3).
  weekend: [saturday, sunday]
  holidays: ["2026-12-25", "2026-12-26", "2027-01-01"]
  # §3.3 prerequisites: PROD deploys only inside a confirmed maintenance window. A window is
  # weekly (days, start, end in local time; an end before the start runs past midnight) or
  # one-off (from, until). Without environments it applies to all of them.
  windows:
    - name: prod-weekly
      environments: [PROD]
      days: [tuesday, thursday]
      start: "22:00"
      end: "02:00"
    - name: prod-saturday-morning
      environments: [PROD]
      days: [saturday]
      start: "06:00"
      end: "10:00"
  # No deployments at all during a freeze (times in local time, or RFC 3339 with an offset).
  freezes:
    - name: year-end
      environments: [TEST, PROD]
      from: "2026-12-21 00:00"
      until: "2027-01-04 00:00"
      reason: Year-end change freeze
    # Freezes may also recur: yearly (whole local days, the last included; Dec 15 - Jan 5 runs
    # into the next year) or weekly like a window (docs/calendar.md), e.g.
    # - {name: holiday-season, environments: [PROD], yearly: {from: "12-15", until: "01-05"}}
    # - {name: friday-afternoon, environments: [PROD], days: [friday], start: "12:00", end: "24:00"}
  # A scheduled CR without --duration or --downtime takes this long on the calendar.
  # default_duration: 1h
  # Who may deploy inside a freeze with `deploy --override-freeze --reason T` (§5.2).
  # freeze_override_roles: [cab-chair, it-operations-manager]

# Environments in promotion order: DEV -> TEST -> PROD (§1.1).
environments:
  - name: DEV
    approval:
      # §2.2 step 3: Development Lead approval, same day.
      roles: [development-lead]
      quorum: 1                      # distinct approvers needed
      lead_time: same-day            # same-day | a duration (24h) | N business days (5bd)
      emergency_lead_time: 4h        # §5.3 step 3
      verbal_confirmation_within: 24h  # §5.2 step 3: verbal approvals confirmed in writing
    # §4.3 step 2: DEV -> TEST needs the Development Lead's sign-off.
    signoffs:
      - {kind: dev-lead, roles: [development-lead]}
    # §6.1 step 3: who authorises a rollback (jointly: one person of each role).
    rollback_approvers: [development-lead]
    # Exit criteria and rollback triggers (§2.3, §3.x, §6.1, §7.3); the same in every environment.
    thresholds: &playbook-thresholds
      smoke_pass_rate_percent: 100           # §3.1 exit criteria
      regression_pass_rate_percent: 95       # §3.2 step 8
      min_free_disk_percent: 20              # §2.3 step 2
      min_availability_percent: 99.5         # §6.1: roll back below this
      max_users_affected_percent: 5          # §6.1: roll back at this many users affected
      max_performance_degradation_percent: 20  # §7.3: roll back when slower than this
      rollback_security_cvss: 7.0            # §6.1: fast-track rollback from this CVSS score
      max_rollback_duration: 15m             # §5.3 step 4
      enhanced_monitoring: 72h               # §4.2 step 4, §5.3 step 5
      log_check_after: 4h                    # §3.3 exit criteria
      availability_window: 10m               # §6.1: availability judged over this window
      watch_interval: 1m                     # §4.2 step 4: the watch's probe interval
      emergency_checkins_for: 8h             # §5.3 step 5: hourly check-ins after an emergency
    # §2.5: whom to tell before deploying, how early, and through which channels.
    notify:
      recipients: [development-team]   # contact groups, roles or people
      before_min: immediately
      before_max: immediately
      channels: [teams, email]
    requires_maintenance_window: false
    requires_rollback_tested: false
    rolling: false
    batch: "1"
    allow_emergency_skip: false
    # §2.4 step 3: restore the backups into scratch copies to prove them (PROD only, at
    # discretion): off (`backup verify` refused), optional (people run `rollgate backup verify
    # CR --env ENV --restore`) or required (every deployment verifies its backups before it
    # changes anything).
    backup_verification: off

  - name: TEST
    approval:
      # §2.2 step 3: Test Manager approval, 24-hour lead time.
      roles: [test-manager]
      quorum: 1
      lead_time: 24h
      emergency_lead_time: 4h
      verbal_confirmation_within: 24h
    # §4.3 step 2 and §3.2 step 10: TEST -> PROD needs the Test Manager, a Business Analyst
    # and UAT sign-off.
    signoffs:
      - {kind: test-manager, roles: [test-manager]}
      - {kind: business-analyst, roles: [business-analyst]}
      - {kind: uat, roles: [business-analyst]}
    # §6.1 step 3: Test Manager + Development Lead, jointly.
    rollback_approvers: [test-manager, development-lead]
    thresholds: *playbook-thresholds
    notify:
      recipients: [qa-team, business-analysts]
      before_min: 24h
      before_max: 24h
      channels: [teams, email]
    requires_maintenance_window: false
    requires_rollback_tested: false
    rolling: false
    batch: "1"
    # §5.3 step 1: the emergency path goes DEV -> PROD, skipping TEST.
    allow_emergency_skip: true
    backup_verification: off

  - name: PROD
    approval:
      # §2.2 step 3: CAB approval, 5 business days; emergency 4-24 hours. Any CAB member or the
      # CAB chair may approve; raise the quorum to require more than one of them.
      roles: [cab-member, cab-chair]
      quorum: 1
      lead_time: 5 business days
      emergency_lead_time: 4h
      verbal_confirmation_within: 24h
    # §4.3 step 2: the CAB Chair signs PROD off.
    signoffs:
      - {kind: cab, roles: [cab-chair]}
    # §6.1 step 3: CAB Chair + IT Operations Manager, jointly.
    rollback_approvers: [cab-chair, it-operations-manager]
    thresholds: *playbook-thresholds
    # §2.5: all stakeholders, 48-72 hours before, by e-mail.
    notify:
      recipients: [all-stakeholders]
      before_min: 48h
      before_max: 72h
      channels: [email]
    # §3.3 prerequisites: maintenance window confirmed, rollback plan documented and tested.
    requires_maintenance_window: true
    requires_rollback_tested: true
    # §3.3 step 4: rolling deployment, one node at a time ("1", or a share such as "25%").
    rolling: true
    batch: "1"
    # §6.1 rollback triggers: rollback (at once), evaluate (page, wait for a decision until the
    # deadline, then the default) or off. Left out, the playbook's table applies; this is it.
    triggers:
      deployment-failed: rollback
      health: rollback
      availability: rollback
      users-affected: rollback
      data-integrity: rollback
      security: rollback
      smoke: {action: evaluate, deadline: 30m, default: rollback}
      response-time: {action: evaluate, deadline: 30m, default: continue}
      # §4.2: a critical alert firing in a system's Alertmanager (systems with `alertmanager:`).
      critical-alerts: {action: evaluate, deadline: 30m, default: rollback}
    allow_emergency_skip: false
    # §2.4 step 3: PROD's backups may be verified at the operator's discretion.
    backup_verification: optional

# The emergency path (§5): who may approve (verbally, confirmed in writing within 24 h) and
# whom to tell immediately (§2.5 "Emergency": Security Team and CAB Chair, by phone and Teams).
emergency:
  approver_roles: [cab-chair, security-lead, it-operations-manager]
  notify:
    recipients: [security-team, cab-chair]
    before_min: immediately
    channels: [phone, teams]

# People and their roles (§1.2, §2.2, §4.3, §5.2, §6.1, §9). name is the id used everywhere;
# unix_user maps the OS account running `rollgate` to the person.
people:
  - {name: alice, full_name: Alice Archer, email: alice@example.com, phone: "+1 555 0101", unix_user: alice, roles: [development-lead]}
  - {name: bob, full_name: Bob Baker, email: bob@example.com, phone: "+1 555 0102", unix_user: bob, roles: [test-manager]}
  - {name: carol, full_name: Carol Chen, email: carol@example.com, phone: "+1 555 0103", unix_user: carol, roles: [business-analyst]}
  - {name: dave, full_name: Dave Diaz, email: dave@example.com, phone: "+1 555 0104", unix_user: dave, roles: [cab-member]}
  - {name: erin, full_name: Erin Evans, email: erin@example.com, phone: "+1 555 0105", unix_user: erin, roles: [cab-chair]}
  - {name: frank, full_name: Frank Fox, email: frank@example.com, phone: "+1 555 0106", unix_user: frank, roles: [it-operations-manager]}
  - {name: grace, full_name: Grace Green, email: grace@example.com, phone: "+1 555 0107", unix_user: grace, roles: [security-lead]}
  - {name: heidi, full_name: Heidi Hill, email: heidi@example.com, phone: "+1 555 0108", unix_user: heidi, roles: [engineer]}
  - {name: ivan, full_name: Ivan Ito, email: ivan@example.com, phone: "+1 555 0109", unix_user: ivan, roles: [test-engineer]}
  - {name: judy, full_name: Judy Jones, email: judy@example.com, phone: "+1 555 0110", unix_user: judy, roles: [help-desk]}
  - {name: kim, full_name: Kim Kowalski, email: kim@example.com, phone: "+1 555 0111", unix_user: kim, roles: [dba-lead]}
  - {name: leo, full_name: Leo Lopez, email: leo@example.com, phone: "+1 555 0112", unix_user: leo, roles: [it-director]}
  - {name: mia, full_name: Mia Moore, email: mia@example.com, phone: "+1 555 0113", unix_user: mia, roles: [ciso]}
  - {name: nick, full_name: Nick Nolan, email: nick@example.com, phone: "+1 555 0114", unix_user: nick, roles: [admin]}

# Systems as the playbook sees them (§3.1-§3.3, §6.2). Paths and commands default to the
# playbook's layout: /opt/NAME, /etc/NAME, /var/log/NAME/application.log, tests/smoke-test.sh.
systems:
  - name: billing
    description: Customer billing service
    owner: alice
    # Hosts per environment: [user@]host[:port]; names, IPv4 or IPv6 ([::1]:2222).
    hosts:
      DEV: [deploy@billing-dev1.example.com]
      TEST: [deploy@billing-test1.example.com]
      PROD: [deploy@billing-prod1.example.com, deploy@billing-prod2.example.com, deploy@billing-prod3.example.com]
    service:
      name: billing.service
      manager: systemd               # systemd | command (then give start_command, stop_command)
    app_dir: /opt/billing
    config_dir: /etc/billing
    app_user: billing
    app_group: billing
    port: 8080
    # §3.2 step 7: health, ready and metrics endpoints on the service's port.
    health:
      - {name: health, path: /health}
      - {name: ready, path: /ready}
      - {name: metrics, path: /metrics}
    smoke_command: /opt/billing/tests/smoke-test.sh
    regression:
      command: /opt/billing/tests/run-regression.sh
      results: /opt/billing/tests/results/regression.xml   # JUnit XML
    logs:
      file: /var/log/billing/application.log
      error_patterns: [error, exception, fatal]   # §4.1 step 4
    database:
      url: postgresql://billing@db-billing.example.com:5432/billing
      # Never the password itself: env:NAME or file:/path.
      password: env:BILLING_DB_PASSWORD
    critical_tables: [invoices, payments]
    dependencies: [db-billing.example.com:5432]
    # §6.1 users-affected trigger: where the error share comes from, the service's counters or
    # a Prometheus query (percentage of requests in error), e.g.:
    # metrics:
    #   path: /metrics
    #   requests_metric: http_requests_total
    #   errors_metric: http_errors_total
    #   # or: prometheus_url: http://127.0.0.1:9090
    #   #     prometheus_query: 100 * sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))
    # §4.2 verify alerting: after each deployment and during the watch, ask a Prometheus
    # Alertmanager for this system's firing critical alerts (evidence "alerts", trigger
    # critical-alerts; docs/watch.md). Matchers default to system=<name>, severities to
    # [critical]; "{environment}" stands for the environment deployed to, e.g.:
    # alertmanager:
    #   url: http://127.0.0.1:9093
    #   matchers: ["system=billing", "environment={environment}"]
    #   severities: [critical]
    # The names advisories use for this system (OSV package, CSAF product); §6.1 security trigger.
    advisory_names: [billing]
    # A database written to since its backup: hold (restore the rest, wait for a decision) or
    # restore.
    on_writes_since_backup: hold

# §9.1 on-call contact matrix: a role's primary and backup person.
contacts:
  - {name: it-operations-on-call, primary: heidi, backup: frank, hours: 24/7}
  - {name: development-on-call, primary: alice, backup: heidi, hours: 24/7}
  - {name: dba-on-call, primary: kim, backup: heidi, hours: 24/7}
  - {name: security-on-call, primary: grace, backup: mia, hours: 24/7}
  - {name: network-on-call, primary: heidi, backup: frank, hours: 24/7}

# §9.4 internal contacts, named after the audiences of §2.5. people are optional members.
groups:
  - {name: it-operations, email: it-ops@example.com, channel: "#it-operations", people: [frank, heidi]}
  - {name: development-team, email: dev-team@example.com, channel: "#development", people: [alice]}
  - {name: qa-team, email: qa@example.com, channel: "#qa-team", people: [bob, ivan]}
  - {name: security-team, email: security@example.com, channel: "#security-incidents", people: [grace, mia]}
  - {name: change-management, email: cab@example.com, channel: "#change-management", people: [dave, erin]}
  - {name: business-analysts, email: business-analysts@example.com, people: [carol]}
  - {name: all-stakeholders, email: stakeholders@example.com}

# §9.2 escalation paths. contact is an on-call contact, a person or a role; response_time is
# "immediate" or a duration. "Team Lead" is the development lead, "Manager" the IT ops manager.
escalation:
  - name: standard                   # DEV and TEST issues
    levels:
      - {contact: it-operations-on-call, response_time: 15m}
      - {contact: development-lead, response_time: 30m}
      - {contact: it-operations-manager, response_time: 1h}
  - name: production
    levels:
      - {contact: it-operations-on-call, response_time: 15m}
      - {contact: it-operations-manager, response_time: 30m}
      - {contact: cab-chair, response_time: 1h}
      - {contact: it-director, response_time: 2h}
  - name: security
    levels:
      - {contact: security-on-call, response_time: immediate}
      - {contact: security-lead, response_time: 15m}
      - {contact: ciso, response_time: 30m}

# How notifications travel (§2.5: Teams, Email, Phone). type is email, webhook, command, file or
# alertmanager.
# Settings whose name contains password, secret or token take env:NAME or file:/path only.
# Where messages go (docs/notifications.md). Every message is queued in the store, sent at once,
# and retried by `rollgate notify flush` (and every later message) until delivered.
#   email:   url smtp://host:port or smtps://host:port, from, optional to (default: the person's
#            or the group's e-mail), username, password_env (the NAME of an environment variable
#            holding the password: never the password itself), starttls: true|false, timeout.
#   webhook: url, format: slack | teams | generic, optional headers ({Authorization: env:NAME}
#            reads the value from the environment), timeout. A 2xx answer is a delivery.
#   command: sh -c COMMAND with the message on standard input and ROLLGATE_SUBJECT,
#            ROLLGATE_RECIPIENT, ROLLGATE_RECIPIENT_EMAIL, ROLLGATE_RECIPIENT_PHONE set.
#   file:    path (relative to this file), appended.
#   alertmanager: url of a Prometheus Alertmanager, optional severity (default warning), labels
#            ({team: ops}); each message becomes an alert "Rollgate<Type>" for one hour.
#
# Until you point them at your servers, the three channels below write every message to files in
# outbox/ next to this file, so nothing leaves the machine. Replace each with the real one, e.g.:
#   - name: email
#     type: email
#     settings: {url: "smtp://smtp.example.com:25", from: rollgate@example.com, starttls: true}
#   - name: teams             # a Microsoft Teams incoming webhook (a MessageCard)
#     type: webhook
#     settings: {url: "https://example.com/hooks/it-operations", format: teams}
#   - name: phone
#     type: command
#     settings: {command: /usr/local/bin/page-on-call}
# and Rollgate's own messages can become alerts in a Prometheus Alertmanager:
#   - name: alertmanager
#     type: alertmanager
#     settings: {url: "http://127.0.0.1:9093", severity: warning, labels: {team: it-operations}}
channels:
  - name: email
    type: file
    settings: {path: outbox/email.txt}
  - name: teams
    type: file
    settings: {path: outbox/teams.txt}
  - name: phone
    type: file
    settings: {path: outbox/phone.txt}

# Pages (`rollgate page`, docs/oncall.md) go out through these channels; left out, through the
# page's environment's notification channels, or every channel when it names none.
# oncall:
#   channels: [phone, email]

# rollgate serve: the HTTP API and /metrics (docs/server.md). People authenticate with tokens
# from `rollgate token create`; the help desk reads only.
# server:
#   listen: 127.0.0.1:8420
#   tls_cert: /etc/rollgate/tls/cert.pem    # with tls_key: HTTPS only
#   tls_key: /etc/rollgate/tls/key.pem
#   max_body_kib: 1024
#   max_connections: 256
#   workers: 0                 # threads serving connections; 0 = one per core
#   read_timeout: 10s
#   write_timeout: 10s
#   idle_timeout: 5s
#   token_admin_roles: [admin, it-operations-manager]
#   read_only_roles: [help-desk]

# The processes a run starts on this machine (local steps, ssh clients) run at this nice value
# relative to rollgate, so that their start-up bursts yield to the API and the executor; 0 runs
# them at rollgate's own priority. A process a local step leaves running keeps it: start
# services through systemd.
# execution:
#   command_nice: 10

# Retries of a failed delivery: the delay after the 1st, 2nd ... failed attempt (the last one
# repeats), and the attempts after which a message is marked failed (`rollgate notify retry ID`
# sends it again).
# notifications:
#   backoff: [30s, 2m, 10m, 30m, 1h]
#   max_attempts: 6

# The playbook's messages, reworded: subject and/or body per template, with placeholders
# {cr} {system} {environment} {patch} {version} {run} {started} {finished} {duration}
# {expected_completion} {outcome} {smoke} {errors} {reason} {approved_by}. Templates:
# deployment-start, deployment-complete, rollback-start, rollback-complete; also
# rollback-progress (+ {current_step} {status} {issues} {now} {elapsed}), decision-needed
# (+ {triggers} {deadline} {on_deadline}) and database-held (+ {writes} {current_dump});
# emergency-approval-request: {cr} {system} {environment} {patch} {incident} {classification}
# {cvss} {references} {impact} {risk} {why_not_normal} {requestor} {time}.
# templates:
#   deployment-start:
#     subject: "[DEPLOYMENT START] {system} {version} - {environment} - {started}"
)yaml";
}

}  // namespace rollgate
