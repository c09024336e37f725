// Change request use cases (playbook §2.2, §4.3, §5.2, §8): each loads the CR, applies the
// domain's rule, and stores the result with its audit event in one transaction — so a refused
// action changes nothing and an accepted one is never stored without its event.
// Every operation that takes a CR id refuses a malformed one (anything but "CR-<number>") with
// InvalidArgument before reading the store; a well-formed id that is not stored is NotFound.
// Thread-compatible; one per command or request.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/change_request.h"
#include "domain/checklists.h"
#include "domain/config.h"
#include "domain/cr_lifecycle.h"
#include "domain/gates.h"
#include "store/store.h"

namespace rollgate {

struct ChecklistView {
  ChangeRequest cr;
  std::vector<ChecklistItem> items;
};

class CrService {
 public:
  CrService(const Config& config, Store& store, const Clock& clock, const TimeZone& zone)
      : config_(config), store_(store), clock_(clock), zone_(zone) {}

  // Creates a CR for a stored patch. NotFound for an unknown patch; InvalidArgument naming
  // every bad field.
  Result<ChangeRequest> Create(const std::string& patch_id, CrDraft draft,
                               const std::string& actor);
  // Stores the file's content by SHA-256 and attaches it. InvalidArgument for an unreadable,
  // empty or oversized file.
  Result<ChangeRequest> Attach(const std::string& id, const std::string& kind,
                               const std::filesystem::path& file, const std::string& actor);
  // The same for a document given as its bytes (the API's upload), named `file_name` (a plain
  // name: no '/', no control characters).
  Result<ChangeRequest> AttachContent(const std::string& id, const std::string& kind,
                                      const std::string& file_name, const std::string& content,
                                      const std::string& actor);
  // Changes content fields; after submission this bumps the revision, so earlier approvals and
  // sign-offs stay recorded but no longer count. InvalidArgument when nothing changes.
  Result<ChangeRequest> Edit(const std::string& id, const CrEdit& edit, const std::string& actor);
  // Records the emergency justification (§5.1 step 1) with the score and criteria of the CR's
  // patch; see RecordEmergencyJustification.
  Result<ChangeRequest> Justify(const std::string& id, const JustificationDraft& draft,
                                const std::string& actor);
  Result<ChangeRequest> Submit(const std::string& id, const std::string& actor);
  Result<ChangeRequest> Schedule(const std::string& id, const std::string& env, Timestamp at,
                                 const std::string& actor);
  Result<ChangeRequest> Approve(const std::string& id, const std::string& env,
                                const std::string& actor);
  // Records an emergency verbal approval given by `approver` to `actor` (§5.2 step 3).
  Result<ChangeRequest> RecordVerbalApproval(const std::string& id, const std::string& env,
                                             const std::string& approver,
                                             const std::string& conditions,
                                             const std::string& actor);
  Result<ChangeRequest> Confirm(const std::string& id, const std::string& env,
                                const std::string& actor);
  Result<ChangeRequest> Reject(const std::string& id, const std::string& env,
                               const std::string& reason, const std::string& actor);
  Result<ChangeRequest> Signoff(const std::string& id, const std::string& env,
                                const std::string& kind, const std::string& actor);
  Result<ChangeRequest> RecordEvidence(const std::string& id, Evidence evidence,
                                       const std::string& actor);
  Result<ChangeRequest> Cancel(const std::string& id, const std::string& reason,
                               const std::string& actor);
  Result<ChangeRequest> Close(const std::string& id, const std::string& actor);

  Result<ChangeRequest> Get(const std::string& id);
  // `overdue`: only CRs with a verbal approval whose written confirmation is overdue.
  Result<std::vector<ChangeRequestSummary>> List(const ChangeRequestFilter& filter, bool overdue);
  // The gates of `env`, judged with the CR's patch (its §5.1 criteria).
  Result<GateReport> CheckGates(const std::string& id, const std::string& env, bool emergency);
  Result<ChecklistView> ComputeChecklist(const std::string& id, const std::string& env);

 private:
  // Loads the CR, applies `change`, stores the result and its audit event atomically.
  Result<ChangeRequest> Mutate(
      const std::string& id,
      const std::function<Result<CrTransition>(const ChangeRequest&, Timestamp now)>& change,
      const std::string& actor);

  const Config& config_;
  Store& store_;
  const Clock& clock_;
  const TimeZone& zone_;
};

}  // namespace rollgate
