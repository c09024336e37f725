// Printing results and errors the same way in every command, and mapping Status to the exit
// codes of INTERFACE.md.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace rollgate::cli {

class Context;

// 0 for OK; 2 invalid argument; 3 not found; 4 refused (gate, permission); 1 otherwise.
int ExitCodeFor(const Status& status);

// Prints a failed command's Status: "rollgate: message" on stderr; with --output json also a
// JSON document {"error":{"code","message"}} on stdout. Returns the exit code.
int ReportError(Context& ctx, const Status& status);

// Prints a JSON document on one line (with --output json).
void PrintJson(Context& ctx, const nlohmann::json& document);

}  // namespace rollgate::cli
