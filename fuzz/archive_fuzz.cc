// Fuzzes the archive inspector through the in-memory reader: any bytes must give a report,
// never a crash, a hang or a write to disk. Limits are small so each input stays fast.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "intake/archive_inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rollgate::ArchiveLimits limits;
  limits.max_total_bytes = 4 << 20;
  limits.max_entries = 1000;
  limits.ratio_floor_bytes = 1 << 20;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  rollgate::ArchiveReport report = rollgate::ScanArchiveMemory(bytes, limits);
  // Every refusal names something and says why.
  for (const rollgate::RefusedEntry& entry : report.refused) {
    if (entry.reasons.empty()) __builtin_trap();
  }
  return 0;
}
