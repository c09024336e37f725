// The change calendar (docs/calendar.md; domain/calendar.h): what is planned when, the conflicts,
// and the audited override of a freeze.
//
// Reads the store's change requests; the only change it makes is OverrideFreeze (the CR with its
// audit event in one transaction). Not thread-safe; one per command.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/calendar.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "store/store.h"

namespace rollgate {

// How long before its planned start a deployment still counts as the change made early.
inline constexpr Seconds kEarlyDeployment = std::chrono::hours(24);

// True when `change` has happened: `cr` recorded a deployment in its environment at or after its
// start less kEarlyDeployment (a reschedule more than a day after the last deployment, for a
// retry, makes it planned again).
bool ScheduledChangeDone(const ChangeRequest& cr, const ScheduledChange& change);

// The scheduled changes still planned of every CR still open (draft, submitted or in progress),
// except those of `except_cr`, by start time.
Result<std::vector<ScheduledChange>> ListScheduledChanges(Transaction& tx, const Config& config,
                                                          std::string_view except_cr = "");

struct CalendarView {
  Timestamp from, until;
  std::string environment;  // empty: every environment
  std::vector<CalendarEntry> entries;
  std::vector<CalendarConflict> conflicts;  // of the changes in the range
};

// The range `calendar` shows: from local midnight of the day `from` ("YYYY-MM-DD"; empty: today)
// to the end of the local day `to` (empty: 14 days after `from`). InvalidArgument naming
// `from_name` or `to_name` for a text that is not a date; `field` is set to that name.
struct CalendarRange {
  Timestamp from, until;
};
Result<CalendarRange> ResolveCalendarRange(std::string_view from, std::string_view to,
                                           Timestamp now, const TimeZone& zone,
                                           std::string_view from_name, std::string_view to_name,
                                           std::string& field);

class CalendarService {
 public:
  CalendarService(const Config& config, Store& store, const Clock& clock, const TimeZone& zone)
      : config_(config), store_(store), clock_(clock), zone_(zone) {}

  // The calendar for [from, until) and `environment` (empty: all). InvalidArgument when until is
  // not after from, the range is longer than 366 days, or the environment is unknown.
  Result<CalendarView> Calendar(Timestamp from, Timestamp until, const std::string& environment);

  // The conflicts `cr_id` would have if scheduled in `environment` at `at` (with the other CRs'
  // changes and the environment's windows and freezes). NotFound for an unknown CR.
  Result<std::vector<CalendarConflict>> ConflictsIfScheduled(const std::string& cr_id,
                                                             const std::string& environment,
                                                             Timestamp at);

  // What `cr schedule` checks before recording (docs/calendar.md): the conflicts that only warn
  // (a start outside the windows or in a freeze: the gates decide at deployment), or
  // RefusedByGate naming the overlaps where the environment requires a maintenance window. No
  // conflicts for an unknown environment (CrService::Schedule refuses it).
  Result<std::vector<CalendarConflict>> CheckSchedule(const std::string& cr_id,
                                                      const std::string& environment, Timestamp at);

  // Records `actor`'s override of the freeze for `cr_id` in `environment` (domain/gates.h
  // RecordFreezeOverride): InvalidArgument without a reason, PermissionDenied without a
  // freeze-override role, NotFound for an unknown CR.
  Result<ChangeRequest> OverrideFreeze(const std::string& cr_id, const std::string& environment,
                                       const std::string& actor, const std::string& reason);

 private:
  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
};

}  // namespace rollgate
