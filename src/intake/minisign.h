// Verification of minisign signatures (https://jedisct1.github.io/minisign/) with libsodium.
//
// A package is trusted only when a signature made by one of the configured public keys covers
// exactly its bytes. Both signature algorithms minisign writes are verified:
//   "ED" (default since minisign 0.8): Ed25519 over the BLAKE2b-512 digest of the file;
//   "Ed" (legacy, `minisign -S -l`): Ed25519 over the file itself (files up to 256 MiB).
// The trusted comment is authenticated too: its global signature (Ed25519 over the file signature
// followed by the comment) must verify with the same key, so a comment cannot be swapped.
//
// Formats (all lines end with "\n", "\r\n" is accepted):
//   public key:  ["untrusted comment: ..."] then base64("Ed" || key id (8 bytes) || key (32 bytes))
//   signature:   "untrusted comment: ...", base64(algorithm (2) || key id (8) || signature (64)),
//                "trusted comment: ...", base64(global signature (64))
// Key ids are shown exactly as minisign prints them in key files and messages: the 8 bytes read as
// a little-endian integer, in upper-case hex without leading zeros ("15140E4CBDC9A4F8",
// "C00C5E979C14390"), so an operator can compare them with the comment of a key file.
//
// Thread-safety: all functions are thread-safe (libsodium is initialised once, safely).
// Ownership: values are returned by copy; nothing is retained.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rollgate {

struct TrustedKey {
  std::string key_id;  // upper-case hex, as minisign prints it
  std::array<unsigned char, 8> key_number{};
  std::array<unsigned char, 32> public_key{};
  std::string comment;  // the untrusted comment of a key file, without its prefix; may be empty

  bool operator==(const TrustedKey&) const = default;
};

// Parses a public key given as its base64 line ("RWQ...") or as the whole text of a minisign
// public key file. InvalidArgument saying what is wrong (not base64, wrong length, not Ed25519).
Result<TrustedKey> ParseTrustedKey(std::string_view text);
// Reads and parses a minisign public key file. NotFound/Unavailable when it cannot be read,
// InvalidArgument (naming the file) when it is not a public key.
Result<TrustedKey> LoadTrustedKeyFile(const std::filesystem::path& path);

struct SignatureCheck {
  std::string key_id;             // the key that made the signature
  std::string trusted_comment;    // authenticated, without the "trusted comment: " prefix
  std::string untrusted_comment;  // not authenticated; for display only
  bool prehashed = false;         // "ED" (BLAKE2b-512 of the file) rather than legacy "Ed"
};

// Verifies that `signature` is a valid minisign signature of `file` by one of `keys`.
// Success: which key signed, and the authenticated trusted comment.
// Failure:
//   InvalidArgument  "malformed signature file ..." (layout, base64, lengths, algorithm), or a
//                    legacy signature over a file above the legacy size limit;
//   PermissionDenied "signed by unknown key <ID>", "signature does not match the file ..." (also an
//                    older signed version of the file), "trusted comment signature invalid ...";
//   NotFound/Unavailable when the file or the signature cannot be read.
Result<SignatureCheck> VerifyMinisign(const std::filesystem::path& file,
                                      const std::filesystem::path& signature,
                                      const std::vector<TrustedKey>& keys);

}  // namespace rollgate
