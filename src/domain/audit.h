// The audit log's events and their hash chain (docs/audit-chain.md).
//
// Each event's hash is SHA-256 over the previous event's hash and the event's canonical encoding,
// so editing, deleting, inserting or reordering an event breaks every later hash. Pure functions;
// the store persists events and calls these to append and verify.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace rollgate {

inline constexpr const char* kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditEvent {
  int64_t seq = 0;  // 1, 2, 3 ... dense
  Timestamp at;
  std::string actor;    // person, or "system"
  std::string action;   // "cr.approve", "patch.add", ...
  std::string object;   // "CR-12", "PATCH-3"
  std::string details;  // canonical JSON object text
  std::string prev_hash;
  std::string hash;
};

// The bytes hashed for `event` (every field but `hash`), unambiguous: length-prefixed fields.
std::string CanonicalAuditEncoding(const AuditEvent& event);
// SHA-256 hex over prev_hash and the canonical encoding.
std::string ComputeAuditHash(const AuditEvent& event);

// Incremental verifier: feed events in seq order.
class AuditChainVerifier {
 public:
  // Returns false at the first bad event and remembers why; later calls keep returning false.
  bool Add(const AuditEvent& event);
  bool ok() const { return !first_bad_.has_value(); }
  int64_t count() const { return count_; }
  std::optional<int64_t> first_bad() const { return first_bad_; }
  const std::string& reason() const { return reason_; }
  const std::string& head_hash() const { return head_; }
  int64_t head_seq() const { return head_seq_; }

 private:
  int64_t count_ = 0;
  int64_t head_seq_ = 0;
  std::string head_ = kAuditGenesisHash;
  std::optional<int64_t> first_bad_;
  std::string reason_;
};

}  // namespace rollgate
