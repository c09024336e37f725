#include "store/audit_checkpoint.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <map>

#include "common/sha256.h"
#include "common/strings.h"

namespace rollgate {

namespace {

constexpr std::string_view kHashStampPrefix = "sha256:";
constexpr std::string_view kHmacStampPrefix = "hmac-sha256:";
constexpr size_t kBlockSize = 64;  // SHA-256's block size, for HMAC

std::string HexToBytes(std::string_view hex) {
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned value = 0;
    std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    bytes.push_back(static_cast<char>(value));
  }
  return bytes;
}

bool IsLowerHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string ComputeStamp(int64_t seq, std::string_view head_hash, Timestamp at,
                         std::optional<std::string_view> key) {
  std::string input = CheckpointStampInput(seq, head_hash, at);
  if (key) return std::string(kHmacStampPrefix) + HmacSha256Hex(*key, input);
  return std::string(kHashStampPrefix) + Sha256Hex(input);
}

const TimeZone& Utc() {
  static const FixedOffsetZone utc{Seconds(0)};
  return utc;
}

}  // namespace

std::string CheckpointStampInput(int64_t seq, std::string_view head_hash, Timestamp at) {
  return fmt::format("rollgate-checkpoint-v1|{}|{}|{}", seq, head_hash, FormatRfc3339Utc(at));
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  std::string block_key = key.size() > kBlockSize ? HexToBytes(Sha256Hex(key)) : std::string(key);
  block_key.resize(kBlockSize, '\0');
  std::string inner_pad(kBlockSize, '\0');
  std::string outer_pad(kBlockSize, '\0');
  for (size_t i = 0; i < kBlockSize; ++i) {
    inner_pad[i] = static_cast<char>(block_key[i] ^ 0x36);
    outer_pad[i] = static_cast<char>(block_key[i] ^ 0x5c);
  }
  Sha256 inner;
  inner.Update(inner_pad);
  inner.Update(message);
  std::string inner_digest = HexToBytes(inner.FinishHex());
  Sha256 outer;
  outer.Update(outer_pad);
  outer.Update(inner_digest);
  return outer.FinishHex();
}

AuditCheckpoint MakeCheckpoint(int64_t seq, std::string head_hash, Timestamp at,
                               std::optional<std::string_view> key) {
  AuditCheckpoint checkpoint;
  checkpoint.seq = seq;
  checkpoint.head_hash = std::move(head_hash);
  checkpoint.at = at;
  checkpoint.stamp = ComputeStamp(checkpoint.seq, checkpoint.head_hash, at, key);
  return checkpoint;
}

Result<AuditCheckpoint> CheckpointStore(Store& store, Timestamp at,
                                        std::optional<std::string_view> key) {
  ASSIGN_OR_RETURN(AuditVerification verification, store.VerifyAudit());
  if (!verification.ok) {
    return Corruption("the audit chain does not verify, so it cannot be checkpointed: " +
                      verification.reason);
  }
  return MakeCheckpoint(verification.head_seq, verification.head_hash, at, key);
}

std::string FormatCheckpoint(const AuditCheckpoint& checkpoint) {
  return fmt::format("rollgate-checkpoint v1 seq={} head={} at={} stamp={}", checkpoint.seq,
                     checkpoint.head_hash, FormatRfc3339Utc(checkpoint.at), checkpoint.stamp);
}

Result<AuditCheckpoint> ParseCheckpoint(std::string_view text) {
  auto bad = [](std::string_view why) {
    return InvalidArgument(fmt::format(
        "malformed audit checkpoint: {} (expected 'rollgate-checkpoint v1 seq=N head=HEX "
        "at=TIME stamp=sha256:HEX')",
        why));
  };
  std::vector<std::string> words;
  for (const std::string& word : Split(Trim(text), ' ')) {
    if (!word.empty()) words.push_back(word);
  }
  if (words.size() < 2 || words[0] != "rollgate-checkpoint") {
    return bad("it does not start with 'rollgate-checkpoint'");
  }
  if (words[1] != "v1") {
    return bad(fmt::format("unknown version '{}'", EscapeForDisplay(words[1])));
  }
  std::map<std::string, std::string> fields;
  for (size_t i = 2; i < words.size(); ++i) {
    size_t equals = words[i].find('=');
    if (equals == std::string::npos) {
      return bad(fmt::format("'{}' is not key=value", EscapeForDisplay(words[i])));
    }
    std::string key = words[i].substr(0, equals);
    if (key != "seq" && key != "head" && key != "at" && key != "stamp") {
      return bad(fmt::format("unknown field '{}'", EscapeForDisplay(key)));
    }
    if (!fields.emplace(key, words[i].substr(equals + 1)).second) {
      return bad(fmt::format("field '{}' appears twice", key));
    }
  }
  for (const char* key : {"seq", "head", "at", "stamp"}) {
    if (!fields.count(key)) return bad(fmt::format("field '{}' is missing", key));
  }

  AuditCheckpoint checkpoint;
  const std::string& seq = fields["seq"];
  auto [end, error] = std::from_chars(seq.data(), seq.data() + seq.size(), checkpoint.seq);
  if (error != std::errc() || end != seq.data() + seq.size() || checkpoint.seq < 0) {
    return bad(fmt::format("seq '{}' is not a non-negative integer", EscapeForDisplay(seq)));
  }
  checkpoint.head_hash = fields["head"];
  if (!IsLowerHex64(checkpoint.head_hash)) {
    return bad(fmt::format("head '{}' is not 64 lowercase hex characters",
                           EscapeForDisplay(checkpoint.head_hash)));
  }
  Result<Timestamp> at = ParseTime(fields["at"], Utc());
  if (!at.ok()) return bad(at.error().message());
  checkpoint.at = *at;
  checkpoint.stamp = fields["stamp"];
  std::string_view stamp = checkpoint.stamp;
  if (StartsWith(stamp, kHashStampPrefix)) {
    stamp.remove_prefix(kHashStampPrefix.size());
  } else if (StartsWith(stamp, kHmacStampPrefix)) {
    stamp.remove_prefix(kHmacStampPrefix.size());
  } else {
    return bad(fmt::format("stamp '{}' is neither sha256:HEX nor hmac-sha256:HEX",
                           EscapeForDisplay(checkpoint.stamp)));
  }
  if (!IsLowerHex64(stamp)) return bad("the stamp's digest is not 64 lowercase hex characters");
  if (StartsWith(checkpoint.stamp, kHashStampPrefix)) RETURN_IF_ERROR(CheckStamp(checkpoint));
  return checkpoint;
}

Status CheckStamp(const AuditCheckpoint& checkpoint, std::optional<std::string_view> key) {
  bool hmac = StartsWith(checkpoint.stamp, kHmacStampPrefix);
  if (hmac && !key) {
    return InvalidArgument(
        "the checkpoint is HMAC-stamped: its key is needed to check it (and the chain against it)");
  }
  std::string expected =
      ComputeStamp(checkpoint.seq, checkpoint.head_hash, checkpoint.at, hmac ? key : std::nullopt);
  if (expected != checkpoint.stamp) {
    return InvalidArgument(fmt::format(
        "the checkpoint's stamp does not match its fields: it was altered or mistyped{}",
        hmac ? ", or made with another key" : ""));
  }
  return Status::Ok();
}

Result<AuditVerification> VerifyAgainst(Store& store, const AuditCheckpoint& checkpoint,
                                        std::optional<std::string_view> key) {
  RETURN_IF_ERROR(CheckStamp(checkpoint, key));
  AuditChainVerifier verifier;
  int64_t events = 0;
  std::optional<std::string> hash_at_checkpoint;
  RETURN_IF_ERROR(store.ForEachAuditEvent([&](const AuditEvent& event) {
    ++events;
    if (verifier.ok() && verifier.Add(event) && event.seq == checkpoint.seq) {
      hash_at_checkpoint = event.hash;
    }
    return Status::Ok();
  }));

  AuditVerification verification;
  verification.ok = verifier.ok();
  verification.events = events;
  verification.first_bad = verifier.first_bad();
  verification.reason = verifier.reason();
  verification.head_hash = verifier.head_hash();
  verification.head_seq = verifier.head_seq();
  if (!verification.ok) return verification;

  std::string when = FormatRfc3339Utc(checkpoint.at);
  if (checkpoint.seq == 0) {
    if (checkpoint.head_hash != kAuditGenesisHash) {
      verification.ok = false;
      verification.first_bad = 1;
      verification.reason =
          fmt::format("the checkpoint of {} records an empty chain with a non-genesis head", when);
    }
    return verification;
  }
  if (verification.head_seq < checkpoint.seq) {
    verification.ok = false;
    verification.first_bad = verification.head_seq + 1;
    verification.reason = fmt::format(
        "the chain ends at event {} but the checkpoint of {} records event {}: events {} to {} "
        "were removed",
        verification.head_seq, when, checkpoint.seq, verification.head_seq + 1, checkpoint.seq);
    return verification;
  }
  if (hash_at_checkpoint != checkpoint.head_hash) {
    verification.ok = false;
    verification.first_bad = checkpoint.seq;
    verification.reason = fmt::format(
        "event {} does not have the hash the checkpoint of {} records: the chain was rewritten "
        "at or before event {}",
        checkpoint.seq, when, checkpoint.seq);
  }
  return verification;
}

}  // namespace rollgate
