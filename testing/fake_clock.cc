#include "testing/fake_clock.h"

namespace rollgate::testing {

Timestamp MondayMorning() {
  using namespace std::chrono;
  return sys_days(year(2026) / November / 30) + hours(9);
}

}  // namespace rollgate::testing
