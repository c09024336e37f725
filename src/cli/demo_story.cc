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
                               const std::filesystem::path& workspace) {
  (void)workspace;
  LoadResult loaded = LoadConfigText(StarterConfigYaml(), "rollgate.yaml", zone);
  const Config& config = *loaded.config;

  DemoStory story;
  story.cr_id = kCr;
  story.files["implementation-plan.md"] =
      "1. Readiness checks (2.3)\n2. Backups of /opt/billing, /etc/billing and the billing "
      "database (2.4)\n3. Stop billing, extract the package, run migrations, start billing (3.x)\n"
      "4. Smoke tests, health endpoints, log review (4.1)\n";
  story.files["rollback-plan.md"] =
      "Restore /opt/billing and /etc/billing from the pre-deployment copies, pg_restore the "
      "billing database from the run's dump, restart and verify (6.2).\n";
  story.files["test-plan.md"] =
      "DEV: smoke tests (100 %). TEST: smoke, regression suite (>= 95 %), UAT by billing "
      "operations. PROD: smoke and critical transactions (4.1).\n";
  story.files["security-impact-assessment.md"] =
      "The TLS stack of billing is exposed to the internet; the flaw allows reading server memory. "
      "No known exploitation. Patch within the standard path.\n";
  story.files["release-notes.txt"] = "OpenSSL 3.0.15: fixes CVE-2026-31337 (heap over-read).\n";
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

  auto& s = story.steps;
  auto add = [&](std::string chapter, std::string narration, std::vector<std::string> args,
                 int exit_code = 0) {
    s.push_back({std::move(chapter), std::move(narration), std::move(args), exit_code});
  };
  add("The configuration", "The playbook's defaults, as written by 'rollgate init', are valid.",
      {"validate"});
  add("Intake and classification (playbook 2.1)",
      "A CVSS vector is scored exactly as FIRST specifies.",
      {"cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"});
  add("",
      "Grace, the security lead, imports a vendor advisory (OSV); CVSS 9.8 makes it P1-Critical "
      "and an emergency (5.1).",
      {"patch", "import", "advisory-osv.json", "--as", "grace"});
  add("", "Heidi, an engineer, records another vendor patch by hand; it is P2-High (7.0-8.9).",
      {"patch", "add", "--title", "OpenSSL 3.0.15 for billing", "--source", "vendor-advisory",
       "--cve", "CVE-2026-31337", "--cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
       "--version", "3.0.15", "--ref", "https://openssl.example/news/secadv/20261129.txt", "--as",
       "heidi"});
  add("Change request (playbook 2.2)",
      "She opens a change request with every 2.2 field; the title is generated.",
      {"cr",
       "create",
       "--patch",
       "PATCH-2",
       "--system",
       "billing",
       "--description",
       "Upgrade OpenSSL to 3.0.15 to fix CVE-2026-31337",
       "--implementation-plan",
       "implementation-plan.md",
       "--rollback-plan",
       "rollback-plan.md",
       "--risk",
       "Low: library upgrade, restart of billing only",
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
  add("", "The DEV deployment's results are recorded as evidence (the engine records them itself).",
      {"cr", "evidence", kCr, "--env", "DEV", "--kind", "deployment", "--passed", "--detail",
       "deployed to billing-dev-1", "--as", "heidi"});
  add("", "",
      {"cr", "evidence", kCr, "--env", "DEV", "--kind", "smoke", "--passed", "--value", "100",
       "--as", "heidi"});
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
  add("", "", {"gate", "check", kCr, "--env", "TEST"});
  add("", "TEST results: deployment, smoke tests and a regression run at 93 %.",
      {"cr", "evidence", kCr, "--env", "TEST", "--kind", "deployment", "--passed", "--as", "ivan"});
  add("", "",
      {"cr", "evidence", kCr, "--env", "TEST", "--kind", "smoke", "--passed", "--value", "100",
       "--as", "ivan"});
  add("", "",
      {"cr", "evidence", kCr, "--env", "TEST", "--kind", "regression", "--value", "93", "--detail",
       "186 of 200 passed", "--as", "ivan"});
  add("PROD (playbook 3.3)",
      "PROD is refused, naming everything missing: regression below 95 %, UAT, sign-offs, CAB "
      "approval, a tested rollback, a schedule.",
      {"gate", "check", kCr, "--env", "PROD"}, 4);
  add("", "The regression suite is re-run after a fix: 97.5 %.",
      {"cr", "evidence", kCr, "--env", "TEST", "--kind", "regression", "--value", "97.5",
       "--detail", "195 of 200 passed", "--as", "ivan"});
  add("", "Sign-offs of 4.3 step 2: test manager, business analyst, and UAT.",
      {"cr", "signoff", kCr, "--env", "TEST", "--kind", "test-manager", "--as", "bob"});
  add("", "",
      {"cr", "signoff", kCr, "--env", "TEST", "--kind", "business-analyst", "--as", "carol"});
  add("", "", {"cr", "signoff", kCr, "--env", "TEST", "--kind", "uat", "--as", "carol"});
  add("", "Dave, a CAB member, approves PROD.",
      {"cr", "approve", kCr, "--env", "PROD", "--as", "dave"});
  add("", "The rollback rehearsal's result is recorded (the rollback command records it itself).",
      {"cr", "evidence", kCr, "--env", "TEST", "--kind", "rollback-tested", "--passed", "--value",
       "240", "--detail", "rollback rehearsed in TEST in 4 minutes", "--as", "heidi"});
  add("", "Two days out is short of the CAB's 5 business days.",
      {"cr", "schedule", kCr, "--env", "PROD", "--at", At(prod_too_early), "--as", "heidi"});
  add("", "", {"gate", "check", kCr, "--env", "PROD"}, 4);
  add("",
      fmt::format("The first maintenance window after the lead time: {}.",
                  FormatLocalMinutes(prod_start, zone)),
      {"cr", "schedule", kCr, "--env", "PROD", "--at", At(prod_start), "--as", "heidi"});
  add("", "Every PROD gate holds.", {"gate", "check", kCr, "--env", "PROD"});
  add("Documents and checklists (playbook 8, Appendix B)",
      "The pre-deployment checklist, computed from the record.",
      {"cr", "checklist", kCr, "--env", "PROD"});
  add("", "The change request as the playbook's Appendix B.", {"cr", "show", kCr});
  constexpr const char* kEmergency = "CR-2";
  add("The emergency path (playbook 5)",
      "The P1 advisory gets its own change request; it is marked emergency from the patch.",
      {"cr", "create", "--patch", "PATCH-1", "--system", "billing", "--description",
       "Emergency: fix CVE-2026-44001 in the PDF renderer", "--implementation-plan",
       "implementation-plan.md", "--rollback-plan", "rollback-plan.md", "--risk",
       "High if not deployed: remote code execution", "--test-plan", "test-plan.md", "--as",
       "heidi"});
  add("", "",
      {"cr", "attach", kEmergency, "--kind", "security-impact-assessment",
       "security-impact-assessment.md", "--as", "heidi"});
  add("", "", {"cr", "submit", kEmergency, "--as", "heidi"});
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
  add("The record", "Every step above is an event in a hash chain; it verifies.",
      {"audit", "verify"});
  add("", "A checkpoint of the chain's head, to keep elsewhere...",
      {"audit", "checkpoint", "--file", "audit-checkpoint.txt"});
  add("", "...against which truncation of the log is detected too.",
      {"audit", "verify", "--against", "audit-checkpoint.txt"});
  return story;
}

}  // namespace rollgate::cli
