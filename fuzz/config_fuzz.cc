// Fuzz target for the configuration loader (STYLE.md 15): any bytes must give either a Config or
// a list of positioned errors — never a crash, a hang or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/strings.h"
#include "common/time.h"
#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const rollgate::FixedOffsetZone kUtc(rollgate::Seconds(0));
  std::string_view text(reinterpret_cast<const char*>(data), size);
  rollgate::LoadResult result = rollgate::LoadConfigText(text, "fuzz.yaml", kUtc);
  // The contract: a config if and only if there are no errors, and every error printable on one
  // line with a position inside the input.
  if (result.config.has_value() == !result.errors.empty()) __builtin_trap();
  for (const rollgate::ConfigError& error : result.errors) {
    std::string line = rollgate::FormatConfigError(error);
    for (char c : line) {
      if (c == '\n' || c == '\r' || c == '\0') __builtin_trap();
    }
    if (error.line < 0 || error.column < 0) __builtin_trap();
  }
  return 0;
}
