// The public JSON shapes of the CLI and API (INTERFACE.md): field names here are a contract
// users' scripts depend on. Add fields freely; never rename.
#pragma once

#include <nlohmann/json.hpp>

#include "common/time.h"
#include "domain/patch.h"

namespace rollgate::cli {

nlohmann::json PatchJson(const Patch& patch);
// Human-readable patch description for text output.
std::string PatchText(const Patch& patch, const TimeZone& zone);

}  // namespace rollgate::cli
