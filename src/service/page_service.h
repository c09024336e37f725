// Pages with escalation (playbook §9; domain/oncall.h, docs/oncall.md): open a page on an
// escalation path, notify each level's people through DeployService::Notify, escalate pages not
// acknowledged in time, acknowledge.
//
// Every change is stored with its audit event in one transaction (page.open, page.notify,
// page.escalate, page.exhausted, page.ack). A page's state and escalation are stored before its
// people are notified; each delivery is recorded on the page afterwards, so a crash in between
// leaves an escalated page whose history shows no delivery for that level (never a delivery the
// store does not know of, RELIABILITY.md). Notifications are delivered as evidence on the page's
// change request; a page without one records each notification as not delivered (see
// docs/oncall.md). Not thread-safe; one per command.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/config.h"
#include "domain/oncall.h"
#include "store/store.h"

namespace rollgate {

// The escalation path of an automatic page (docs/oncall.md, playbook §9.2): "security" for a
// security trigger or a P1 change, "production" for the last environment in promotion order,
// "standard" otherwise.
std::string AutomaticPagePath(const Config& config, const ChangeRequest& cr,
                              const std::string& environment, bool security_trigger);

struct PageRequest {
  std::string path;  // escalation path name
  std::string subject;
  std::string message;
  std::string change_request;  // optional
  std::string environment;     // optional
};

class PageService {
 public:
  PageService(const Config& config, Store& store, const Clock& clock, const TimeZone& zone,
              std::filesystem::path packages_dir)
      : config_(config),
        store_(store),
        clock_(clock),
        zone_(zone),
        packages_dir_(std::move(packages_dir)) {}

  // Opens a page by `actor` and notifies level 1. InvalidArgument for an unknown path or
  // environment, an empty subject or text that is not valid UTF-8; NotFound for an unknown CR.
  Result<Page> Open(const PageRequest& request, const std::string& actor);
  // Acknowledges page `id` by `actor`. NotFound for an unknown page; PermissionDenied when
  // `actor` is not on the page's path (MayAcknowledge); Conflict when already acknowledged.
  Result<Page> Acknowledge(const std::string& id, const std::string& actor);
  Result<Page> Get(const std::string& id);
  Result<std::vector<Page>> List(bool open_only);
  // Escalates every open page whose deadline has passed at `now` and notifies the levels
  // reached. Returns the pages that changed. `actor` is recorded on the audit events.
  Result<std::vector<Page>> EscalateDuePages(Timestamp now, const std::string& actor);

 private:
  // Notifies the people of `level` of `page` and records each delivery on the page.
  Status NotifyLevel(Page& page, int level, const std::string& actor);

  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
  std::filesystem::path packages_dir_;
};

}  // namespace rollgate
