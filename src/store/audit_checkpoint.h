// Audit checkpoints: the head of the audit chain written down outside the store.
//
// The hash chain (domain/audit.h) detects edited, deleted, inserted and reordered events, but
// removing the newest events leaves a valid, shorter chain. A checkpoint records (seq, head hash,
// time) at some moment; kept elsewhere (printed, mailed, committed to another system), it lets
// `audit verify --against` prove that the chain still reaches that event with that hash.
// What this does and does not prove: docs/audit-chain.md.
//
// The checkpoint carries a stamp over "rollgate-checkpoint-v1|<seq>|<head>|<at RFC 3339>":
//   "hmac-sha256:<hex>" when made with a secret key — only a key holder can make or alter one;
//   "sha256:<hex>" without a key — detects typing and copying mistakes, not deliberate edits.
// Text form, one line:
//   rollgate-checkpoint v1 seq=57 head=<64 hex> at=2026-11-29T16:01:23Z stamp=sha256:<64 hex>
// Pure functions apart from those taking a Store (which read it); thread-safe as the Store is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"
#include "store/store.h"

namespace rollgate {

struct AuditCheckpoint {
  int64_t seq = 0;        // the head event's seq (0: an empty chain)
  std::string head_hash;  // that event's hash (kAuditGenesisHash for an empty chain)
  Timestamp at;           // when the checkpoint was taken
  std::string stamp;      // "sha256:<hex>" or "hmac-sha256:<hex>"
};

// The exact bytes a stamp covers.
std::string CheckpointStampInput(int64_t seq, std::string_view head_hash, Timestamp at);

// HMAC-SHA256 (RFC 2104) of `message` under `key`, as 64 lowercase hex characters.
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// A checkpoint of (seq, head_hash, at): HMAC-stamped under `key` when given, else hash-stamped.
AuditCheckpoint MakeCheckpoint(int64_t seq, std::string head_hash, Timestamp at,
                               std::optional<std::string_view> key = std::nullopt);

// Verifies the store's chain and checkpoints its head at time `at`. Corruption carrying the
// verifier's reason when the chain does not verify (a broken chain is never checkpointed); the
// store's error when it cannot be read.
Result<AuditCheckpoint> CheckpointStore(Store& store, Timestamp at,
                                        std::optional<std::string_view> key = std::nullopt);

// The one-line text form (no trailing newline).
std::string FormatCheckpoint(const AuditCheckpoint& checkpoint);

// Parses the text form (surrounding whitespace ignored). InvalidArgument naming the problem for
// a malformed line, and for a hash stamp that does not match the fields (a mistyped or altered
// checkpoint). HMAC stamps can only be checked with the key: see CheckStamp.
Result<AuditCheckpoint> ParseCheckpoint(std::string_view text);

// OK when the stamp matches the fields. InvalidArgument when it does not (altered, or another
// key), or when an HMAC stamp is given without `key`.
Status CheckStamp(const AuditCheckpoint& checkpoint,
                  std::optional<std::string_view> key = std::nullopt);

// Checks the stamp, then walks the chain: it must verify AND contain event `checkpoint.seq` with
// hash `checkpoint.head_hash`. A chain that ends before that event (the newest events were
// removed) or holds another hash there (the chain was rewritten) is reported with ok = false,
// first_bad and the reason. Error Status: a bad stamp (as CheckStamp) or an unreadable store.
Result<AuditVerification> VerifyAgainst(Store& store, const AuditCheckpoint& checkpoint,
                                        std::optional<std::string_view> key = std::nullopt);

}  // namespace rollgate
