// Messages while a rollback is decided and carried out (playbook §6.1, §6.4): the page asking for
// a decision on an evaluate trigger, the 15-minute progress update, and the DBA page when a
// database restore is held because users wrote after the backup. Pure.
#pragma once

#include <string>

#include "common/time.h"
#include "domain/deployment_messages.h"

namespace rollgate {

// §6.4 step 2: "Current step, status, issues".
Message RollbackProgressMessage(const DeploymentFacts& facts, const std::string& current_step,
                                const std::string& status, const std::string& issues, Timestamp now,
                                const TimeZone& zone);

// §6.1 "Evaluate + decide": what fired (one line per trigger), the deadline and the default
// that applies then, and the commands that decide.
Message DecisionNeededMessage(const DeploymentFacts& facts, const std::string& triggers,
                              Timestamp deadline, const std::string& on_deadline,
                              const TimeZone& zone);

// The database restore was held: how many writes since the backup, where the current data was
// saved, and the command that restores it once a person decided.
Message DatabaseHeldMessage(const DeploymentFacts& facts, const std::string& writes,
                            const std::string& current_dump, const TimeZone& zone);

}  // namespace rollgate
