// SHA-256 digests (OpenSSL), as lowercase hex. Thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rollgate {

// Incremental hashing, for files and canonical encodings written piece by piece.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The digest as 64 lowercase hex characters. Call once.
  std::string FinishHex();

 private:
  struct Impl;
  Impl* impl_;
};

std::string Sha256Hex(std::string_view bytes);
// The digest of a file's contents; NotFound or Unavailable (with the OS reason) on failure.
Result<std::string> Sha256File(const std::filesystem::path& path);
// True when `text` is 64 hex characters.
bool IsSha256Hex(std::string_view text);

}  // namespace rollgate
