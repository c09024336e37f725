#include "service/cr_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "common/sha256.h"
#include "common/strings.h"
#include "domain/approvals.h"
#include "service/calendar_service.h"

namespace rollgate {

namespace {

constexpr int64_t kMaxAttachmentBytes = 16 * 1024 * 1024;

// OK for "CR-<number>" (1 or more, no leading zeros, at most 18 digits); InvalidArgument naming
// the text otherwise, so a malformed id is bad input rather than "not found".
Status CheckCrId(const std::string& id) {
  std::string_view digits = std::string_view(id).substr(std::min<size_t>(3, id.size()));
  bool ok = StartsWith(id, "CR-") && !digits.empty() && digits.size() <= 18 && digits[0] != '0' &&
            digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (ok) return Status::Ok();
  std::string shown = id.size() > 40 ? id.substr(0, 40) + "..." : id;
  return InvalidArgument(fmt::format(
      "invalid change request id '{}': expected CR-<number>, e.g. CR-12", EscapeForDisplay(shown)));
}

}  // namespace

Result<ChangeRequest> CrService::Mutate(
    const std::string& id,
    const std::function<Result<CrTransition>(const ChangeRequest&, Timestamp now)>& change,
    const std::string& actor) {
  RETURN_IF_ERROR(CheckCrId(id));
  ChangeRequest result;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(id));
    Timestamp now = clock_.Now();
    ASSIGN_OR_RETURN(CrTransition t, change(cr, now));
    RETURN_IF_ERROR(tx.PutChangeRequest(t.cr));
    RETURN_IF_ERROR(tx.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
    result = std::move(t.cr);
    return Status::Ok();
  }));
  return result;
}

Result<ChangeRequest> CrService::Create(const std::string& patch_id, CrDraft draft,
                                        const std::string& actor) {
  ChangeRequest result;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(Patch patch, tx.GetPatch(patch_id));
    ASSIGN_OR_RETURN(draft.number, tx.NextNumber("CR"));
    draft.requester = actor;
    Timestamp now = clock_.Now();
    ASSIGN_OR_RETURN(CrTransition t, NewChangeRequest(draft, patch, config_, now, zone_));
    RETURN_IF_ERROR(tx.PutChangeRequest(t.cr));
    RETURN_IF_ERROR(tx.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
    result = std::move(t.cr);
    return Status::Ok();
  }));
  return result;
}

Result<ChangeRequest> CrService::Attach(const std::string& id, const std::string& kind,
                                        const std::filesystem::path& file,
                                        const std::string& actor) {
  RETURN_IF_ERROR(CheckCrId(id));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return InvalidArgument(fmt::format("{}: not a readable file", EscapeForDisplay(file.string())));
  }
  auto size = static_cast<int64_t>(std::filesystem::file_size(file, ec));
  if (ec || size > kMaxAttachmentBytes) {
    return InvalidArgument(fmt::format("{}: attachments are limited to {} MiB",
                                       EscapeForDisplay(file.string()), kMaxAttachmentBytes >> 20));
  }
  if (size == 0)
    return InvalidArgument(fmt::format("{}: empty file", EscapeForDisplay(file.string())));
  std::ifstream in(file, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Unavailable(fmt::format("{}: read error", EscapeForDisplay(file.string())));
  }
  return AttachContent(id, kind, file.filename().string(), content, actor);
}

Result<ChangeRequest> CrService::AttachContent(const std::string& id, const std::string& kind,
                                               const std::string& file_name,
                                               const std::string& content,
                                               const std::string& actor) {
  RETURN_IF_ERROR(CheckCrId(id));
  if (static_cast<int64_t>(content.size()) > kMaxAttachmentBytes) {
    return InvalidArgument(fmt::format("{}: attachments are limited to {} MiB",
                                       EscapeForDisplay(file_name), kMaxAttachmentBytes >> 20));
  }
  if (content.empty())
    return InvalidArgument(fmt::format("{}: empty file", EscapeForDisplay(file_name)));
  std::string_view name = file_name;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.size() > 255 || !IsValidUtf8(name) || std::any_of(name.begin(), name.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20;
      })) {
    return InvalidArgument(fmt::format(
        "'{}' is not a file name: give a name without '/' or control characters, at most 255 bytes",
        EscapeForDisplay(file_name)));
  }
  Attachment attachment;
  attachment.kind = kind;
  attachment.file_name = file_name;
  attachment.sha256 = Sha256Hex(content);
  attachment.size_bytes = static_cast<int64_t>(content.size());
  attachment.added_by = actor;
  ChangeRequest result;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(id));
    Timestamp now = clock_.Now();
    attachment.added_at = now;
    ASSIGN_OR_RETURN(CrTransition t, AddAttachment(cr, config_, attachment, now));
    RETURN_IF_ERROR(tx.PutBlob(attachment.sha256, content));
    RETURN_IF_ERROR(tx.PutChangeRequest(t.cr));
    RETURN_IF_ERROR(tx.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
    result = std::move(t.cr);
    return Status::Ok();
  }));
  return result;
}

Result<ChangeRequest> CrService::Edit(const std::string& id, const CrEdit& edit,
                                      const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return EditChangeRequest(cr, edit, config_, actor, now, zone_);
      },
      actor);
}

Result<ChangeRequest> CrService::Justify(const std::string& id, const JustificationDraft& draft,
                                         const std::string& actor) {
  RETURN_IF_ERROR(CheckCrId(id));
  ChangeRequest result;
  RETURN_IF_ERROR(store_.Write([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(ChangeRequest cr, tx.GetChangeRequest(id));
    ASSIGN_OR_RETURN(Patch patch, tx.GetPatch(cr.patch_id));
    Timestamp now = clock_.Now();
    ASSIGN_OR_RETURN(CrTransition t,
                     RecordEmergencyJustification(cr, patch, config_, draft, actor, now));
    RETURN_IF_ERROR(tx.PutChangeRequest(t.cr));
    RETURN_IF_ERROR(tx.AppendAudit({now, actor, t.action, t.cr.id, t.details}).status());
    result = std::move(t.cr);
    return Status::Ok();
  }));
  return result;
}

Result<ChangeRequest> CrService::Submit(const std::string& id, const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return rollgate::Submit(cr, config_, actor, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Schedule(const std::string& id, const std::string& env,
                                          Timestamp at, const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return rollgate::Schedule(cr, config_, env, at, actor, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Approve(const std::string& id, const std::string& env,
                                         const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return rollgate::Approve(cr, config_, env, actor, now);
      },
      actor);
}

Result<ChangeRequest> CrService::RecordVerbalApproval(const std::string& id, const std::string& env,
                                                      const std::string& approver,
                                                      const std::string& conditions,
                                                      const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        VerbalApproval verbal{env, approver, actor, now, conditions};
        return rollgate::RecordVerbalApproval(cr, config_, verbal, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Confirm(const std::string& id, const std::string& env,
                                         const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return ConfirmVerbalApproval(cr, config_, env, actor, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Reject(const std::string& id, const std::string& env,
                                        const std::string& reason, const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return rollgate::Reject(cr, config_, env, actor, reason, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Signoff(const std::string& id, const std::string& env,
                                         const std::string& kind, const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return SignOff(cr, config_, env, kind, actor, now);
      },
      actor);
}

Result<ChangeRequest> CrService::RecordEvidence(const std::string& id, Evidence evidence,
                                                const std::string& actor) {
  evidence.recorded_by = actor;
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        evidence.at = now;
        return rollgate::RecordEvidence(cr, config_, evidence, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Cancel(const std::string& id, const std::string& reason,
                                        const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return rollgate::Cancel(cr, config_, actor, reason, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Close(const std::string& id, const std::string& actor) {
  return Mutate(
      id,
      [&](const ChangeRequest& cr, Timestamp now) {
        return rollgate::Close(cr, config_, actor, now);
      },
      actor);
}

Result<ChangeRequest> CrService::Get(const std::string& id) {
  RETURN_IF_ERROR(CheckCrId(id));
  ChangeRequest result;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(result, tx.GetChangeRequest(id));
    return Status::Ok();
  }));
  return result;
}

Result<std::vector<ChangeRequestSummary>> CrService::List(const ChangeRequestFilter& filter,
                                                          bool overdue) {
  ChangeRequestFilter query = filter;
  std::optional<int> limit = query.limit;
  if (overdue) {
    query.only_unconfirmed_verbal = true;
    query.limit.reset();
  }
  std::vector<ChangeRequestSummary> rows;
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(rows, tx.ListChangeRequests(query));
    return Status::Ok();
  }));
  if (!overdue) return rows;
  // The store narrows to CRs with unconfirmed verbal approvals; the domain decides which are
  // overdue now.
  Timestamp now = clock_.Now();
  std::vector<ChangeRequestSummary> result;
  for (const auto& row : rows) {
    if (limit && static_cast<int>(result.size()) >= *limit) break;
    ASSIGN_OR_RETURN(ChangeRequest cr, Get(row.id));
    if (!OverdueConfirmations(cr, config_, now).empty()) result.push_back(row);
  }
  return result;
}

Result<GateReport> CrService::CheckGates(const std::string& id, const std::string& env,
                                         bool emergency) {
  if (!config_.FindEnvironment(env)) {
    return NotFound(fmt::format("no environment '{}' in the configuration", EscapeForDisplay(env)));
  }
  ASSIGN_OR_RETURN(ChangeRequest cr, Get(id));
  Patch patch;
  std::vector<ScheduledChange> others;  // the calendar's other changes (no-overlapping-changes)
  RETURN_IF_ERROR(store_.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(patch, tx.GetPatch(cr.patch_id));
    ASSIGN_OR_RETURN(others, ListScheduledChanges(tx, config_, cr.id));
    return Status::Ok();
  }));
  return rollgate::CheckGates(cr, config_, env, clock_.Now(), zone_, emergency, &patch, &others);
}

Result<ChecklistView> CrService::ComputeChecklist(const std::string& id, const std::string& env) {
  if (!config_.FindEnvironment(env)) {
    return NotFound(fmt::format("no environment '{}' in the configuration", EscapeForDisplay(env)));
  }
  ASSIGN_OR_RETURN(ChangeRequest cr, Get(id));
  std::vector<ChecklistItem> items =
      rollgate::ComputeChecklist(cr, config_, env, clock_.Now(), zone_);
  return ChecklistView{std::move(cr), std::move(items)};
}

}  // namespace rollgate
