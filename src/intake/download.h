// Download of a patch package from a URL (libcurl), verified against the SHA-256 the operator
// gave (playbook §8.1: "patch package downloaded and verified").
//
// Rules:
//   - only https:// (and http:// when `allow_plain_http`, meant for loopback tests); redirects
//     are followed at most `max_redirects` times and only to the same allowed schemes, so a
//     redirect to file://, ftp:// or (by default) http:// is refused;
//   - the expected SHA-256 is required; the file appears at `dest` only once its digest matches;
//   - data goes to "<dest>.part"; an existing partial file is resumed with a Range request (a
//     server that ignores ranges, or answers 416, makes the download start over);
//   - at most `max_bytes` are accepted (announced or received); beyond that the transfer stops;
//   - connect timeout and a low-speed limit: a stalled server ends the attempt.
// What is left behind on failure: a transient failure (timeout, connection lost, server error 5xx)
// keeps "<dest>.part" for the next attempt to resume; a definitive one (size limit, digest
// mismatch, HTTP 4xx, refused redirect) removes it.
//
// Thread-safety: Download may be called from several threads at once for different `dest`s
// (libcurl's global initialisation is done once, safely). Ownership: nothing is retained.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.h"

namespace rollgate {

struct DownloadOptions {
  std::string expected_sha256;  // required: 64 hex digits
  int64_t max_bytes = int64_t{2} << 30;
  std::chrono::seconds connect_timeout{30};
  // The transfer is abandoned when slower than this many bytes per second for `low_speed_time`.
  int64_t low_speed_bytes_per_second = 1024;
  std::chrono::seconds low_speed_time{60};
  int max_redirects = 5;
  bool allow_plain_http = false;
  std::string ca_file;  // an extra CA bundle for https; empty: the system's
};

struct DownloadResult {
  std::filesystem::path path;  // == dest
  std::string sha256;          // lowercase hex, equal to the expected digest
  int64_t size_bytes = 0;
  int64_t resumed_from = 0;   // bytes kept from an earlier partial download
  std::string effective_url;  // after redirects
};

// libcurl's global initialisation, done once for the process (thread-safe); every libcurl user
// of Rollgate calls it before its first transfer. Internal when libcurl cannot be initialised.
Status EnsureCurlInitialised();

// Downloads `url` to `dest`.
// Failure:
//   InvalidArgument  a URL that is not https:// (or http:// when allowed), a missing or malformed
//                    expected digest, more than max_bytes, too many redirects or a redirect to a
//                    refused scheme, a digest mismatch ("expected <hex>, got <hex>");
//   NotFound         HTTP 404/410;  PermissionDenied HTTP 401/403;
//   DeadlineExceeded connect timeout or a stalled transfer (partial file kept);
//   Unavailable      connection, TLS, server (5xx) or local file errors (partial file kept when
//                    the failure was in transfer).
Result<DownloadResult> Download(const std::string& url, const std::filesystem::path& dest,
                                const DownloadOptions& options);

}  // namespace rollgate
