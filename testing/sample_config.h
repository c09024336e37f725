// The canonical in-memory configuration for tests: the playbook's defaults, DEV/TEST/PROD,
// one person per role of the playbook and one system, "billing".
//
// Tests of every layer build on it and change what they need on their copy. Pure; each call
// returns a fresh Config.
#pragma once

#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/patch.h"

namespace rollgate::testing {

// DEV (development-lead, same day), TEST (test-manager, 24 h, may be skipped in an emergency),
// PROD (cab-member or cab-chair, 5 business days, maintenance window and tested rollback
// required); emergency lead time 4 h everywhere; sign-offs per playbook §4.3; a Sunday-night
// PROD window 02:00-06:00 and a nightly DEV/TEST window; 2026 year-end holidays.
//
// People (name: roles): dana (development-lead), tina (test-manager), bea (business-analyst),
// carl and cora (cab-member), chris (cab-chair), opal (it-operations-manager), sam
// (security-lead), eve and ed (engineer), hal (help-desk), dora (dba-lead), ada (engineer,
// admin).
Config SampleConfig();

// PATCH-1 from a vendor advisory, CVE-2026-12345, a CVSS 3.1 score of `cvss_score`, classified
// by domain/classification.h; created by eve at MondayMorning().
Patch SamplePatch(double cvss_score = 7.5, bool exploited = false);

// CR-1 for `patch` on billing, in draft, created by eve at MondayMorning() (UTC) with every
// §2.2 field filled in. Attachments are not added.
ChangeRequest SampleChangeRequest(const Config& config, const Patch& patch);

}  // namespace rollgate::testing
