// Fuzzes the advisory importers (OSV and CSAF 2.0): any input must give a value or a Status,
// never a crash, a hang or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "intake/advisory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  rollgate::Result<rollgate::ImportedAdvisory> advisory = rollgate::ParseAdvisory(text);
  if (advisory.ok() && advisory->format != "osv" && advisory->format != "csaf") __builtin_trap();
  return 0;
}
