// The playbook's defaults: what Rollgate assumes where rollgate.yaml is silent.
//
// DefaultConfig() is the whole configuration used when the file leaves a section out (and by the
// demo's embedded defaults); DefaultEnvironment() gives the starting point for one environment
// named in the file, so that e.g. a PROD entry that only changes its quorum keeps CAB approval,
// five business days and the maintenance-window requirement. Every number cites the playbook.
// Pure and thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "domain/config.h"

namespace rollgate {

// DEV, TEST and PROD (§2.2 step 3, §2.5, §3.x, §4.3, §6.1), the on-call contacts (§9.1), escalation
// paths (§9.2), contact groups (§9.4 and the audiences of §2.5), the channels email, teams and
// phone, the emergency approvers (§5.2) and notification (§2.5), identity.allow_as off,
// separation of duties on, a Saturday/Sunday weekend. No people, systems, windows, freezes or
// holidays: those are the organisation's own.
Config DefaultConfig();

// The playbook's environment for `name` when it is DEV, TEST or PROD (any case; the result keeps
// the given spelling); otherwise a generic environment: no approver roles (the file must name
// them), same-day lead time, no sign-offs, no rollback approvers, default thresholds, no
// notification.
Environment DefaultEnvironment(std::string_view name);

// The built-in contact groups, contacts, escalation paths and channels, one list each.
std::vector<ContactGroup> DefaultContactGroups();
std::vector<Contact> DefaultContacts();
std::vector<EscalationPath> DefaultEscalationPaths();
std::vector<Channel> DefaultChannels();

}  // namespace rollgate
