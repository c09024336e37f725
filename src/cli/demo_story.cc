#include "cli/demo_story.h"

#include <fmt/format.h>

#include "config/loader.h"
#include "config/starter.h"
#include "domain/business_calendar.h"
#include "domain/windows.h"

namespace rollgate::cli {

namespace {

constexpr const char* kCr = "CR-1";

std::string At(Timestamp t) { return FormatRfc3339Utc(t); }

// The first instant at or after `from`, on a quarter hour, inside a PROD maintenance window and
// outside every freeze.
Timestamp NextProdSlot(const Config& config, Timestamp from, const TimeZone& zone) {
  Timestamp t = from + Seconds(900 - from.time_since_epoch().count() % 900);
  for (int i = 0; i < 4 * 24 * 120; ++i, t += Seconds(900)) {
    if (InMaintenanceWindow(config, "PROD", t, zone) && FreezesCovering(config, "PROD", t).empty())
      return t;
  }
  return from;
}

// The first instant at or after `from` outside every freeze of `env`.
Timestamp OutsideFreezes(const Config& config, const std::string& env, Timestamp from) {
  Timestamp t = from;
  for (int i = 0; i < 24 * 120 && !FreezesCovering(config, env, t).empty(); ++i) t += Seconds(3600);
  return t;
}

}  // namespace

DemoStory BuildGovernanceStory(Timestamp now, const TimeZone& zone,
                               const std::filesystem::path& workspace,
                               const std::filesystem::path& lab) {
  (void)workspace;
  LoadResult loaded = LoadConfigText(StarterConfigYaml(), "rollgate.yaml", zone);
  const Config& config = *loaded.config;

  DemoStory story;
  story.cr_id = kCr;
  story.files["implementation-plan.md"] =
      "1. Readiness checks (2.3)\n2. Backups of /opt/demo, /etc/demo and the demo database "
      "(2.4)\n3. Stop demo, install the package, run migrations, start demo (3.x)\n"
      "4. Smoke tests, health endpoints, log review, response time (4.1, 4.2)\n";
  story.files["rollback-plan.md"] =
      "Restore /opt/demo and /etc/demo from the pre-deployment copies, pg_restore the demo "
      "database from the run's dump when the deployment changed it, restart and verify (6.2).\n";
  story.files["test-plan.md"] =
      "DEV: smoke tests (100 %). TEST: smoke, regression suite (>= 95 %), UAT by demo "
      "operations. PROD: smoke and critical transactions (4.1).\n";
  story.files["security-impact-assessment.md"] =
      "The TLS stack of the demo service is exposed to the internet; the flaw allows reading "
      "server memory. No known exploitation. Patch within the standard path.\n";
  story.files["release-notes.txt"] =
      "demo 1.1.0: rebuilt with OpenSSL 3.0.15 (CVE-2026-31337); adds orders.priority.\n";
  story.files["advisory-osv.json"] = R"({
  "schema_version": "1.6.0",
  "id": "OSV-2026-0977",
  "modified": "2026-11-28T08:15:00Z",
  "published": "2026-11-27T16:00:00Z",
  "aliases": ["CVE-2026-44001"],
  "summary": "Remote code execution in the billing PDF renderer",
  "details": "A crafted invoice lets an unauthenticated attacker run code on the server that renders it.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "billing-pdf"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.2.1"}]}]}],
  "references": [{"type": "ADVISORY", "url": "https://security.example.org/OSV-2026-0977"}]
}
)";
  const std::string good_package = (lab / "patches" / "demo-1.1.0.tar.gz").string();
  const std::string prod_failing_package = (lab / "patches" / "demo-1.2.0.tar.gz").string();

  Timestamp dev_start = now + std::chrono::hours(1);
  // TEST: first too early for its 24-hour lead time, then just after it.
  Timestamp test_too_early = now + std::chrono::hours(2);
  Timestamp test_start = OutsideFreezes(config, "TEST", now + std::chrono::hours(26));
  // PROD: first two days out (short of five business days), then the first window slot after
  // the lead time.
  Timestamp prod_too_early = NextProdSlot(config, now + std::chrono::hours(48), zone);
  Timestamp prod_earliest = AddBusinessDays(now, 5, config, zone) + std::chrono::hours(1);
  Timestamp prod_start =
      NextProdSlot(config, std::max(prod_earliest, test_start + std::chrono::hours(24)), zone);
  // The second change takes the next PROD slot after the first.
  Timestamp prod_start_2 = NextProdSlot(config, prod_start + std::chrono::hours(6), zone);

  auto& s = story.steps;
  auto add = [&](std::string chapter, std::string narration, std::vector<std::string> args,
                 int exit_code = 0) {
    s.push_back({std::move(chapter), std::move(narration), std::move(args), exit_code});
  };
  add("The configuration",
      "The playbook's defaults, as written by 'rollgate init', plus the lab's system 'demo' "
      "(written by 'rollgate lab up'), are valid.",
      {"validate"});
  add("Intake and classification (playbook 2.1)",
      "A CVSS vector is scored exactly as FIRST specifies.",
      {"cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"});
  add("",
      "Grace, the security lead, imports a vendor advisory (OSV); CVSS 9.8 makes it P1-Critical "
      "and an emergency (5.1).",
      {"patch", "import", "advisory-osv.json", "--as", "grace"});
  add("",
      "Heidi, an engineer, records the vendor's rebuilt demo service with its package; it is "
      "P2-High (7.0-8.9). The package is checked and kept by SHA-256.",
      {"patch", "add", "--title", "demo 1.1.0 with OpenSSL 3.0.15", "--source", "vendor-advisory",
       "--cve", "CVE-2026-31337", "--cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
       "--version", "1.1.0", "--ref", "https://openssl.example/news/secadv/20261129.txt",
       "--package", good_package, "--as", "heidi"});
  add("Change request (playbook 2.2)",
      "She opens a change request with every 2.2 field; the title is generated.",
      {"cr",
       "create",
       "--patch",
       "PATCH-2",
       "--system",
       "demo",
       "--description",
       "Upgrade the demo service to 1.1.0 (OpenSSL 3.0.15, CVE-2026-31337)",
       "--implementation-plan",
       "implementation-plan.md",
       "--rollback-plan",
       "rollback-plan.md",
       "--risk",
       "Low: library upgrade and one additive column; restart of demo only",
       "--test-plan",
       "test-plan.md",
       "--downtime",
       "15m",
       "--duration",
       "1h",
       "--as",
       "heidi"});
  add("", "Submitting a P2 change without the security impact assessment is refused.",
      {"cr", "submit", kCr, "--as", "heidi"}, 2);
  add("", "She attaches it (stored by SHA-256) and the vendor's release notes.",
      {"cr", "attach", kCr, "--kind", "security-impact-assessment", "security-impact-assessment.md",
       "--as", "heidi"});
  add("", "",
      {"cr", "attach", kCr, "--kind", "release-notes", "release-notes.txt", "--as", "heidi"});
  add("", "Now the submission is accepted.", {"cr", "submit", kCr, "--as", "heidi"});
  add("DEV (playbook 3.1)", "The requester may not approve her own change (separation of duties).",
      {"cr", "approve", kCr, "--env", "DEV", "--as", "heidi"}, 4);
  add("", "A test manager is not the development lead DEV needs.",
      {"cr", "approve", kCr, "--env", "DEV", "--as", "bob"}, 4);
  add("", "Alice, the development lead, approves DEV (same day).",
      {"cr", "approve", kCr, "--env", "DEV", "--as", "alice"});
  add("", "DEV is scheduled an hour from now.",
      {"cr", "schedule", kCr, "--env", "DEV", "--at", At(dev_start), "--as", "heidi"});
  add("", "Every gate for DEV holds.", {"gate", "check", kCr, "--env", "DEV"});
  add("", "TEST may not be deployed before DEV: the deploy command checks the same gates (exit 4).",
      {"deploy", kCr, "--env", "TEST", "--as", "heidi"}, 4);
  add("", "The exact DEV procedure, steps by hosts, without touching anything (--dry-run).",
      {"deploy", kCr, "--env", "DEV", "--dry-run", "--as", "heidi"});
  add("",
      "Before anything else, Heidi rehearses the rollback in DEV (6.2, 5.3 step 4): the patch is "
      "deployed, rolled back at once from the backups the deployment took, and the rollback is "
      "timed. PROD's gate 'rollback plan documented and tested' reads the time.",
      {"rollback", kCr, "--env", "DEV", "--rehearse", "--as", "heidi"});
  add("",
      "Heidi deploys to DEV on the lab over ssh: readiness, backups (files and pg_dump), stop, "
      "install, migration, start, smoke test, health, log scan, response time, a short "
      "observation of availability and errors. The results become evidence on the CR, and every "
      "rollback trigger of 6.1 is judged on them.",
      {"deploy", kCr, "--env", "DEV", "--as", "heidi"});
  add("TEST (playbook 3.2)",
      "TEST may not start yet: no development lead sign-off, no test manager approval, no "
      "schedule.",
      {"gate", "check", kCr, "--env", "TEST"}, 4);
  add("", "Alice signs off DEV (4.3 step 2).",
      {"cr", "signoff", kCr, "--env", "DEV", "--kind", "dev-lead", "--as", "alice"});
  add("", "Bob, the test manager, approves TEST.",
      {"cr", "approve", kCr, "--env", "TEST", "--as", "bob"});
  add("", "Scheduling TEST two hours out is recorded...",
      {"cr", "schedule", kCr, "--env", "TEST", "--at", At(test_too_early), "--as", "heidi"});
  add("", "...but the gate refuses it: TEST needs a 24-hour lead time.",
      {"gate", "check", kCr, "--env", "TEST"}, 4);
  add("", "Rescheduled past the lead time, TEST may start.",
      {"cr", "schedule", kCr, "--env", "TEST", "--at", At(test_start), "--as", "heidi"});
  add("",
      "Ivan, a test engineer, deploys to TEST; the regression suite runs there and its JUnit "
      "results give the pass rate the PROD gate needs (>= 95 %).",
      {"deploy", kCr, "--env", "TEST", "--as", "ivan"});
  add("PROD (playbook 3.3)",
      "PROD is refused, naming everything missing: UAT, sign-offs, CAB approval, a tested "
      "rollback, a schedule.",
      {"gate", "check", kCr, "--env", "PROD"}, 4);
  add("", "Sign-offs of 4.3 step 2: test manager, business analyst, and UAT.",
      {"cr", "signoff", kCr, "--env", "TEST", "--kind", "test-manager", "--as", "bob"});
  add("", "",
      {"cr", "signoff", kCr, "--env", "TEST", "--kind", "business-analyst", "--as", "carol"});
  add("", "", {"cr", "signoff", kCr, "--env", "TEST", "--kind", "uat", "--as", "carol"});
  add("", "Dave, a CAB member, approves PROD.",
      {"cr", "approve", kCr, "--env", "PROD", "--as", "dave"});
  add("", "Two days out is short of the CAB's 5 business days.",
      {"cr", "schedule", kCr, "--env", "PROD", "--at", At(prod_too_early), "--as", "heidi"});
  add("", "", {"gate", "check", kCr, "--env", "PROD"}, 4);
  add("",
      fmt::format("The first maintenance window after the lead time: {}.",
                  FormatLocalMinutes(prod_start, zone)),
      {"cr", "schedule", kCr, "--env", "PROD", "--at", At(prod_start), "--as", "heidi"});
  add("", "Every PROD gate holds.", {"gate", "check", kCr, "--env", "PROD"});
  add("", "The pre-deployment checklist, computed from the record.",
      {"cr", "checklist", kCr, "--env", "PROD"});
  add("",
      "Heidi deploys to PROD: one node at a time, each node healthy and smoke-tested before the "
      "next is touched.",
      {"deploy", kCr, "--env", "PROD", "--as", "heidi"});
  add("Documents (playbook 8, Appendix B)",
      "The change request as the playbook's Appendix B, with the evidence the runs recorded.",
      {"cr", "show", kCr});

  constexpr const char* kSecond = "CR-2";
  add("A change that fails in PROD (playbook 6)",
      "Heidi records demo 1.2.0: it adds a unique constraint on order items.",
      {"patch", "add", "--title", "demo 1.2.0: unique order items", "--source", "development-team",
       "--version", "1.2.0", "--package", prod_failing_package, "--as", "heidi"});
  add("", "",
      {"cr",
       "create",
       "--patch",
       "PATCH-3",
       "--system",
       "demo",
       "--type",
       "standard",
       "--description",
       "Enforce unique order items",
       "--implementation-plan",
       "implementation-plan.md",
       "--rollback-plan",
       "rollback-plan.md",
       "--risk",
       "Medium: a new constraint on orders",
       "--test-plan",
       "test-plan.md",
       "--as",
       "heidi"});
  add("", "", {"cr", "submit", kSecond, "--as", "heidi"});
  add("", "DEV: approved, scheduled, deployed; it works.",
      {"cr", "approve", kSecond, "--env", "DEV", "--as", "alice"});
  add("", "", {"cr", "schedule", kSecond, "--env", "DEV", "--at", At(dev_start), "--as", "heidi"});
  add("", "", {"rollback", kSecond, "--env", "DEV", "--rehearse", "--as", "heidi"});
  add("", "", {"deploy", kSecond, "--env", "DEV", "--as", "heidi"});
  add("", "TEST: signed off, approved, scheduled, deployed; the regression suite passes.",
      {"cr", "signoff", kSecond, "--env", "DEV", "--kind", "dev-lead", "--as", "alice"});
  add("", "", {"cr", "approve", kSecond, "--env", "TEST", "--as", "bob"});
  add("", "",
      {"cr", "schedule", kSecond, "--env", "TEST", "--at", At(test_start), "--as", "heidi"});
  add("", "", {"deploy", kSecond, "--env", "TEST", "--as", "ivan"});
  add("", "PROD: sign-offs, CAB approval, a window (the rollback was rehearsed in DEV).",
      {"cr", "signoff", kSecond, "--env", "TEST", "--kind", "test-manager", "--as", "bob"});
  add("", "",
      {"cr", "signoff", kSecond, "--env", "TEST", "--kind", "business-analyst", "--as", "carol"});
  add("", "", {"cr", "signoff", kSecond, "--env", "TEST", "--kind", "uat", "--as", "carol"});
  add("", "", {"cr", "approve", kSecond, "--env", "PROD", "--as", "dave"});
  add("", "",
      {"cr", "schedule", kSecond, "--env", "PROD", "--at", At(prod_start_2), "--as", "heidi"});
  add("",
      "In PROD the migration meets production data (the same item ordered twice): it fails in "
      "its transaction on the first node, and the rollout stops there. The node is neither the "
      "old version nor the new one: the 'deployment-failed' trigger rolls it back at once, from "
      "its own backups, without waiting for anyone (6.1); the other nodes were never touched, "
      "and the database needs no restore because the failed migration never committed.",
      {"deploy", kSecond, "--env", "PROD", "--as", "heidi"}, 1);
  add("",
      "PROD for this change now reads 'rolled back'; the record says which trigger fired, with "
      "what it measured, and that no authorisation was needed.",
      {"cr", "show", kSecond});
  add("Rolling back by hand (playbook 6.1 step 3)",
      "The business asks for 1.1.0 to be withdrawn from PROD. Heidi may not order that...",
      {"rollback", kCr, "--env", "PROD", "--reason", "withdrawn at the business's request", "--as",
       "heidi"},
      4);
  add("",
      "...it takes the CAB chair and the IT operations manager jointly: Erin's authorisation is "
      "recorded, and the rollback waits for Frank's...",
      {"rollback", kCr, "--env", "PROD", "--reason", "withdrawn at the business's request", "--as",
       "erin"},
      4);
  add("",
      "...whose command runs it: the three nodes the deployment changed are restored, the "
      "database with them (1.1.0's migration had committed and nobody wrote since), and "
      "verified.",
      {"rollback", kCr, "--env", "PROD", "--reason", "withdrawn at the business's request", "--as",
       "frank"});

  constexpr const char* kEmergency = "CR-3";
  add("The emergency path (playbook 5)",
      "The P1 advisory gets its own change request; it is marked emergency from the patch.",
      {"cr", "create", "--patch", "PATCH-1", "--system", "billing", "--description",
       "Emergency: fix CVE-2026-44001 in the PDF renderer", "--implementation-plan",
       "implementation-plan.md", "--rollback-plan", "rollback-plan.md", "--risk",
       "High if not deployed: remote code execution", "--test-plan", "test-plan.md", "--as",
       "heidi"});
  add("",
      "Heidi documents the emergency justification (5.1 step 1): the incident and why the normal "
      "process cannot be followed; the CVSS score, its source and the 5.1 criteria come from the "
      "advisory.",
      {"cr", "justify", kEmergency, "--incident",
       "CVE-2026-44001: remote code execution in the PDF renderer", "--why",
       "exploitation is public; the CAB's 5 business days would leave billing exposed", "--as",
       "heidi"});
  add("", "",
      {"cr", "attach", kEmergency, "--kind", "security-impact-assessment",
       "security-impact-assessment.md", "--as", "heidi"});
  add("", "", {"cr", "submit", kEmergency, "--as", "heidi"});
  add("",
      "The EMERGENCY PATCH APPROVAL REQUEST goes to every emergency approver at once (5.2 steps "
      "1-2); each delivery is recorded on the CR (the starter's pager command is not installed "
      "here and chat needs the notification service; the journal receives it).",
      {"cr", "request-approval", kEmergency, "--as", "heidi"});
  add("",
      "Erin, the CAB chair, approves PROD on the phone; Heidi records it with its conditions (5.2 "
      "step 3).",
      {"cr", "approve", kEmergency, "--env", "PROD", "--verbal", "--approver", "erin",
       "--conditions", "deploy only after DEV smoke tests pass", "--as", "heidi"});
  add("",
      "The compressed path still refuses PROD until DEV has succeeded, the risk of skipping TEST "
      "is accepted and the rollback is tested.",
      {"gate", "check", kEmergency, "--env", "PROD", "--emergency"}, 4);
  add("", "Only Erin herself can confirm her verbal approval in writing...",
      {"cr", "confirm", kEmergency, "--env", "PROD", "--as", "heidi"}, 4);
  add("", "...which she does within the 24 hours.",
      {"cr", "confirm", kEmergency, "--env", "PROD", "--as", "erin"});
  add("The record", "Every run, with every step on every host.", {"run", "list"});
  add("", "Every step above is an event in a hash chain; it verifies.", {"audit", "verify"});
  add("", "A checkpoint of the chain's head, to keep elsewhere...",
      {"audit", "checkpoint", "--file", "audit-checkpoint.txt"});
  add("", "...against which truncation of the log is detected too.",
      {"audit", "verify", "--against", "audit-checkpoint.txt"});
  return story;
}

}  // namespace rollgate::cli
