#include "domain/audit.h"

#include <fmt/format.h>

#include "common/sha256.h"

namespace rollgate {

namespace {

void AppendField(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

}  // namespace

std::string CanonicalAuditEncoding(const AuditEvent& event) {
  std::string out;
  out.reserve(160 + event.actor.size() + event.action.size() + event.object.size() +
              event.details.size() + event.prev_hash.size());
  out += "rollgate-audit-v1;";
  AppendField(out, std::to_string(event.seq));
  AppendField(out, FormatRfc3339Utc(event.at));
  AppendField(out, event.actor);
  AppendField(out, event.action);
  AppendField(out, event.object);
  AppendField(out, event.details);
  AppendField(out, event.prev_hash);
  return out;
}

std::string ComputeAuditHash(const AuditEvent& event) {
  return Sha256Hex(CanonicalAuditEncoding(event));
}

bool AuditChainVerifier::Add(const AuditEvent& event) {
  if (first_bad_) return false;
  auto fail = [&](std::string why) {
    first_bad_ = event.seq;
    reason_ = std::move(why);
    return false;
  };
  if (event.seq != head_seq_ + 1) {
    return fail(
        fmt::format("event {} follows event {}: an event was removed, inserted or reordered",
                    event.seq, head_seq_));
  }
  if (event.prev_hash != head_) {
    return fail(
        fmt::format("event {} does not link to the hash of event {}", event.seq, head_seq_));
  }
  if (ComputeAuditHash(event) != event.hash) {
    return fail(
        fmt::format("event {} was modified: its hash does not match its contents", event.seq));
  }
  head_ = event.hash;
  head_seq_ = event.seq;
  ++count_;
  return true;
}

}  // namespace rollgate
