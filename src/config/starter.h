// The starter rollgate.yaml that `rollgate init` writes.
//
// A commented file that spells out every playbook default explicitly (so a team sees and edits
// the numbers instead of inheriting invisible ones), with one example person per built-in role,
// one system, weekly maintenance windows, a freeze and holidays. It loads with zero errors; a test
// keeps it that way. Pure and thread-safe.
#pragma once

#include <string>

namespace rollgate {

// The whole file, ready to write. Never fails.
std::string StarterConfigYaml();

}  // namespace rollgate
