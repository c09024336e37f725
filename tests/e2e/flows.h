// Steps shared by the black-box tests: recording a patch, raising and submitting a change
// request, reading gate reports. Each step runs the real binary through a CliHarness and fails
// the test when the binary does not do what the step needs.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/cli_harness.h"

namespace rollgate::e2e {

// Monday 2026-11-30 09:00 UTC: a fixed "now" (ROLLGATE_NOW) three weeks before the starter
// configuration's year-end freeze, so lead times and windows do not depend on the day tests run.
inline constexpr char kMonday[] = "2026-11-30T09:00:00Z";
// CVSS 3.1 vectors and the classes they give.
inline constexpr char kCriticalVector[] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";  // 9.8
inline constexpr char kHighVector[] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";      // 7.5
inline constexpr char kMediumVector[] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N";    // 5.3

// Describes a result for failure messages.
inline std::string Describe(const CommandOutput& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out.substr(0, 2000) +
         "\nstderr: " + r.err.substr(0, 2000);
}

// Records a patch as heidi with `extra` flags; returns its id ("" on failure).
inline std::string AddPatch(const CliHarness& h, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {
      "patch", "add", "--title", "OpenSSL 3.0.15 for billing", "--source", "vendor-advisory"};
  args.insert(args.end(), extra.begin(), extra.end());
  CommandOutput r = h.RunJson(args, "heidi");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json doc = r.Json();
  return doc.is_object() ? doc.value("id", "") : "";
}

// Creates a change request for `patch` by `requester` with every §2.2 field; returns its id.
inline std::string CreateCr(CliHarness& h, const std::string& patch,
                            const std::string& requester = "heidi") {
  h.WriteFile("plan.md", "1. stop billing\n2. upgrade\n3. start billing\n");
  h.WriteFile("rollback.md", "restore /opt/billing from the backup\n");
  h.WriteFile("tests.md", "smoke tests, regression suite\n");
  CommandOutput r = h.RunJson({"cr",
                               "create",
                               "--patch",
                               patch,
                               "--system",
                               "billing",
                               "--description",
                               "Upgrade OpenSSL",
                               "--implementation-plan",
                               "plan.md",
                               "--rollback-plan",
                               "rollback.md",
                               "--risk",
                               "Low: restart of billing only",
                               "--test-plan",
                               "tests.md",
                               "--downtime",
                               "15m",
                               "--duration",
                               "1h"},
                              requester);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json doc = r.Json();
  return doc.is_object() ? doc.value("id", "") : "";
}

// Attaches a security impact assessment (required for P1/P2) and submits; expects success.
inline void AttachAndSubmit(CliHarness& h, const std::string& cr,
                            const std::string& requester = "heidi") {
  h.WriteFile("sia.md", "exposed TLS endpoint; no known exploitation\n");
  CommandOutput attach =
      h.RunAs(requester, {"cr", "attach", cr, "--kind", "security-impact-assessment", "sia.md"});
  EXPECT_EQ(attach.exit_code, 0) << Describe(attach);
  CommandOutput submit = h.RunAs(requester, {"cr", "submit", cr});
  EXPECT_EQ(submit.exit_code, 0) << Describe(submit);
}

// A submitted CR for a new patch recorded with `patch_flags`.
inline std::string SubmittedCr(CliHarness& h, const std::vector<std::string>& patch_flags,
                               const std::string& requester = "heidi") {
  std::string cr = CreateCr(h, AddPatch(h, patch_flags), requester);
  AttachAndSubmit(h, cr, requester);
  return cr;
}

// Runs `args` as `person` and expects exit code 0.
inline void Ok(const CliHarness& h, const std::string& person,
               const std::vector<std::string>& args) {
  CommandOutput r = h.RunAs(person, args);
  EXPECT_EQ(r.exit_code, 0) << "rollgate " << ::testing::PrintToString(args) << "\n" << Describe(r);
}

// `gate check CR --env ENV [--emergency] --output json`, checking the exit code matches "passed".
inline nlohmann::json GateCheck(const CliHarness& h, const std::string& cr, const std::string& env,
                                bool emergency = false) {
  std::vector<std::string> args = {"gate", "check", cr, "--env", env};
  if (emergency) args.push_back("--emergency");
  CommandOutput r = h.RunJson(args);
  nlohmann::json doc = r.Json();
  EXPECT_TRUE(doc.is_object() && doc.contains("passed") && doc.contains("gates")) << Describe(r);
  if (!doc.is_object() || !doc.contains("passed")) return nlohmann::json::object();
  EXPECT_EQ(r.exit_code, doc["passed"].get<bool>() ? 0 : 4) << Describe(r);
  for (const auto& gate : doc["gates"]) {
    EXPECT_TRUE(gate.contains("name") && gate.contains("passed") && gate.contains("missing"));
    EXPECT_EQ(gate["missing"].get<std::string>().empty(), gate["passed"].get<bool>()) << gate;
  }
  return doc;
}

// The names of the failed gates of a report, in order.
inline std::vector<std::string> FailedGates(const nlohmann::json& report) {
  std::vector<std::string> names;
  for (const auto& gate : report.value("gates", nlohmann::json::array())) {
    if (!gate["passed"].get<bool>()) names.push_back(gate["name"]);
  }
  return names;
}

// The `missing` text of gate `name` ("" when passed; "<not evaluated>" when absent).
inline std::string Missing(const nlohmann::json& report, const std::string& name) {
  for (const auto& gate : report.value("gates", nlohmann::json::array())) {
    if (gate["name"] == name) return gate["missing"];
  }
  return "<not evaluated>";
}

}  // namespace rollgate::e2e
