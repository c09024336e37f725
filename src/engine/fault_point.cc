#include "engine/fault_point.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>

namespace rollgate {

namespace {

struct Configured {
  std::string name;  // empty: no fault point configured
  long long nth = 0;
  std::atomic<long long> calls{0};
};

Configured& Config() {
  static Configured* configured = [] {
    auto* c = new Configured();  // lives for the whole process, like the environment it reads
    const char* text = std::getenv("ROLLGATE_FAULT_POINT");
    if (text == nullptr) return c;
    std::string_view value(text);
    size_t colon = value.rfind(':');
    if (colon == std::string_view::npos) return c;
    long long nth = 0;
    auto [end, ec] = std::from_chars(value.data() + colon + 1, value.data() + value.size(), nth);
    if (ec != std::errc() || end != value.data() + value.size() || nth < 1) return c;
    c->name = std::string(value.substr(0, colon));
    c->nth = nth;
    return c;
  }();
  return *configured;
}

}  // namespace

void FaultPoint(std::string_view name) {
  Configured& config = Config();
  if (config.name.empty() || config.name != name) return;
  if (config.calls.fetch_add(1) + 1 == config.nth) _exit(137);
}

}  // namespace rollgate
