// The business-day calendar (playbook §2.2 step 3 lead times, §5.4 PIR deadlines).
//
// A business day is a local date that is neither a weekend day (Config::weekend) nor a holiday
// (Config::holidays). Dates are local to the TimeZone passed in; instants stay UTC. Pure
// functions, thread-safe.
#pragma once

#include <chrono>

#include "common/time.h"
#include "domain/config.h"

namespace rollgate {

// True when `date` is not a weekend day and not a configured holiday.
bool IsBusinessDay(std::chrono::year_month_day date, const Config& config);

// The instant `n` business days after `from` at the same local time of day: each step moves to
// the next business day, so Friday + 1 is Monday and Saturday + 1 is Monday. n <= 0 returns
// `from` unchanged.
Timestamp AddBusinessDays(Timestamp from, int n, const Config& config, const TimeZone& zone);

// The number of business days d with local date(from) < d <= local date(to); negative when
// `to` is before `from`. BusinessDaysBetween(t, AddBusinessDays(t, n)) == n.
int BusinessDaysBetween(Timestamp from, Timestamp to, const Config& config, const TimeZone& zone);

// The earliest start a lead time allows for a CR submitted at `submitted`:
// same day: local midnight of the submission date (any time that day or later);
// hours: submitted + duration; business days: AddBusinessDays(submitted, n).
Timestamp EarliestStart(const LeadTime& lead_time, Timestamp submitted, const Config& config,
                        const TimeZone& zone);

// A "within n business days" deadline (PIR, §5.4): the end of the n-th business day after the
// local date of `from`, that is local midnight starting the following day. Anything at or after
// the returned instant is late. n <= 0 gives the end of `from`'s own day.
Timestamp DueAfterBusinessDays(Timestamp from, int n, const Config& config, const TimeZone& zone);

}  // namespace rollgate
