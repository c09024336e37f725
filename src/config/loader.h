// Loading rollgate.yaml: parse, validate and fill in the playbook's defaults, in one pass that
// reports every problem it finds.
//
// The loader never throws and never crashes on any input (it is fuzzed: fuzz/config_fuzz.cc):
// YAML syntax errors, unknown keys (with a did-you-mean), wrong types, missing required keys,
// invalid values, duplicate names, references to unknown roles, environments, people, contacts and
// channels, and unsafe host names all become ConfigErrors with the file, line and column they come
// from. Values appear in messages only escaped (DisplayValue); secrets never appear. The YAML shape
// and every default are documented in docs/configuration.md.
// Thread-safety: the functions are pure apart from LoadConfigFile reading the file; call them from
// any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "config/defaults.h"  // DefaultConfig(), for callers that load or fall back
#include "domain/config.h"

namespace rollgate {

// The largest configuration file accepted, and the deepest nesting of YAML collections.
inline constexpr size_t kMaxConfigBytes = size_t{4} * 1024 * 1024;
inline constexpr int kMaxConfigDepth = 32;

// One problem in a configuration file. line and column are 1-based; both are 0 for problems with
// the file as a whole (missing, unreadable, too large).
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  bool operator==(const ConfigError&) const = default;
};

// `config` is set if and only if `errors` is empty. Errors are ordered by line and column.
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;

  bool ok() const { return config.has_value(); }
};

// Reads and loads the file at `path`. A missing or unreadable file, or one larger than
// kMaxConfigBytes, gives exactly one error with line and column 0. Local times in windows and
// freezes ("2026-12-24 18:00") are read in the process's time zone. Config::source_file is `path`.
LoadResult LoadConfigFile(const std::filesystem::path& path);

// Loads configuration text; `file_name` is used in errors and as Config::source_file. Local times
// are read in `zone` (the first overload uses the process's time zone). Never throws.
LoadResult LoadConfigText(std::string_view yaml, std::string file_name);
LoadResult LoadConfigText(std::string_view yaml, std::string file_name, const TimeZone& zone);

// "FILE:LINE:COL: message", or "FILE: message" when the error has no position.
std::string FormatConfigError(const ConfigError& error);

}  // namespace rollgate
