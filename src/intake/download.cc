#include "intake/download.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "common/sha256.h"
#include "common/strings.h"

namespace rollgate {
namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};
using FileHandle = std::unique_ptr<FILE, FileCloser>;

Status CheckUrl(const std::string& url, bool allow_plain_http) {
  for (char c : url) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) {
      return InvalidArgument(
          fmt::format("URL \"{}\" contains spaces or control characters", EscapeForDisplay(url)));
    }
  }
  const std::string lower = ToLower(url);
  if (StartsWith(lower, "https://") && lower.size() > 8) return Status::Ok();
  if (StartsWith(lower, "http://") && lower.size() > 7) {
    if (allow_plain_http) return Status::Ok();
    return InvalidArgument(
        fmt::format("refusing plain http:// URL \"{}\": packages are downloaded over https:// only",
                    EscapeForDisplay(url)));
  }
  return InvalidArgument(fmt::format("refusing URL \"{}\": only https:// URLs can be downloaded",
                                     EscapeForDisplay(url)));
}

// What the write callback saw.
struct TransferState {
  FILE* file = nullptr;
  int64_t offset = 0;   // bytes already in the partial file
  int64_t written = 0;  // bytes appended by this transfer
  int64_t max_bytes = 0;
  bool size_exceeded = false;
  int write_errno = 0;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const size_t bytes = size * count;
  if (state->offset + state->written + static_cast<int64_t>(bytes) > state->max_bytes) {
    state->size_exceeded = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  if (std::fwrite(data, 1, bytes, state->file) != bytes) {
    state->write_errno = errno;
    return 0;
  }
  state->written += static_cast<int64_t>(bytes);
  return bytes;
}

struct TransferOutcome {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  std::string error;  // libcurl's error buffer, or its generic text
  std::string effective_url;
  TransferState state;
};

// One libcurl transfer appending to `part` from `offset`.
Result<TransferOutcome> Transfer(const std::string& url, const std::filesystem::path& part,
                                 int64_t offset, const DownloadOptions& options) {
  FileHandle file(std::fopen(part.c_str(), offset > 0 ? "ab" : "wb"));
  if (!file) {
    return Unavailable(fmt::format("cannot write {}: {}", part.string(), std::strerror(errno)));
  }
  CurlHandle curl(curl_easy_init());
  if (!curl) return Internal("libcurl: cannot create a transfer handle");

  TransferOutcome outcome;
  outcome.state.file = file.get();
  outcome.state.offset = offset;
  outcome.state.max_bytes = options.max_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const char* protocols = options.allow_plain_http ? "https,http" : "https";
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count() * 1000));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT,
                   static_cast<long>(options.low_speed_bytes_per_second));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(options.low_speed_time.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "rollgate");
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options.max_bytes - offset));
  if (offset > 0)
    curl_easy_setopt(handle, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(offset));
  if (!options.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, options.ca_file.c_str());
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &outcome.state);

  outcome.code = curl_easy_perform(handle);
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &outcome.http_status);
  char* effective = nullptr;
  if (curl_easy_getinfo(handle, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective) {
    outcome.effective_url = effective;
  }
  outcome.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(outcome.code);
  if (std::fflush(file.get()) != 0 || ::fsync(fileno(file.get())) != 0) {
    return Unavailable(fmt::format("cannot write {}: {}", part.string(), std::strerror(errno)));
  }
  return outcome;
}

void RemovePart(const std::filesystem::path& part) {
  std::error_code ignored;
  std::filesystem::remove(part, ignored);
}

// The one place libcurl's results become a Status. Sets `keep_part` when the failure was
// transient, so the partial file is kept for the next attempt to resume.
Status TranslateFailure(const std::string& url, const TransferOutcome& outcome,
                        const DownloadOptions& options, bool* keep_part) {
  const std::string where = EscapeForDisplay(url);
  const std::string detail = EscapeForDisplay(outcome.error);
  *keep_part = false;
  if (outcome.state.size_exceeded || outcome.code == CURLE_FILESIZE_EXCEEDED) {
    return InvalidArgument(fmt::format("{}: the download exceeds the size limit of {} bytes", where,
                                       options.max_bytes));
  }
  switch (outcome.code) {
    case CURLE_HTTP_RETURNED_ERROR: {
      const long status = outcome.http_status;
      std::string message = fmt::format("{}: HTTP {}", where, status);
      if (status == 404 || status == 410) return NotFound(message);
      if (status == 401 || status == 403) return PermissionDenied(message);
      if (status >= 500) {
        *keep_part = true;
        return Unavailable(message);
      }
      return InvalidArgument(message);
    }
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgument(
          fmt::format("{}: refused a redirect to a scheme other than {} ({})", where,
                      options.allow_plain_http ? "https:// or http://" : "https://", detail));
    case CURLE_TOO_MANY_REDIRECTS:
      return InvalidArgument(
          fmt::format("{}: more than {} redirects", where, options.max_redirects));
    case CURLE_URL_MALFORMAT:
      return InvalidArgument(fmt::format("{}: malformed URL ({})", where, detail));
    case CURLE_OPERATION_TIMEDOUT:
      *keep_part = true;
      return DeadlineExceeded(fmt::format("{}: timed out ({})", where, detail));
    case CURLE_WRITE_ERROR:
      *keep_part = true;
      return Unavailable(fmt::format("{}: cannot write the download: {}", where,
                                     std::strerror(outcome.state.write_errno)));
    default:
      *keep_part = true;
      return Unavailable(fmt::format("{}: {}", where, detail));
  }
}

}  // namespace

Status EnsureCurlInitialised() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    return Internal(
        fmt::format("libcurl could not be initialised: {}", curl_easy_strerror(result)));
  }
  return Status::Ok();
}

Result<DownloadResult> Download(const std::string& url, const std::filesystem::path& dest,
                                const DownloadOptions& options) {
  RETURN_IF_ERROR(CheckUrl(url, options.allow_plain_http));
  if (!IsSha256Hex(options.expected_sha256)) {
    return InvalidArgument(
        "downloading a package needs its expected SHA-256 (64 hex digits) to verify it");
  }
  if (options.max_bytes <= 0) return InvalidArgument("the download size limit must be positive");
  RETURN_IF_ERROR(EnsureCurlInitialised());
  const std::string expected = ToLower(options.expected_sha256);
  const std::filesystem::path part = dest.string() + ".part";

  std::error_code error;
  int64_t offset = 0;
  if (std::filesystem::is_regular_file(part, error)) {
    offset = static_cast<int64_t>(std::filesystem::file_size(part, error));
    if (error || offset >= options.max_bytes) offset = 0;
  }
  const int64_t initial_offset = offset;

  TransferOutcome outcome;
  // A second attempt only when the server could not continue the partial file.
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSIGN_OR_RETURN(outcome, Transfer(url, part, offset, options));
    const bool range_refused =
        outcome.code == CURLE_RANGE_ERROR ||
        (outcome.code == CURLE_HTTP_RETURNED_ERROR && outcome.http_status == 416);
    if (offset == 0 || !range_refused) break;
    // A 416 may mean the partial file is already complete.
    if (outcome.http_status == 416) {
      Result<std::string> digest = Sha256File(part);
      if (digest.ok() && *digest == expected) {
        outcome.code = CURLE_OK;
        break;
      }
    }
    offset = 0;
  }
  if (outcome.code != CURLE_OK) {
    bool keep_part = false;
    Status status = TranslateFailure(url, outcome, options, &keep_part);
    if (!keep_part) RemovePart(part);
    return status;
  }

  ASSIGN_OR_RETURN(std::string actual, Sha256File(part));
  if (actual != expected) {
    RemovePart(part);
    return InvalidArgument(fmt::format("{}: SHA-256 mismatch: expected {}, got {}",
                                       EscapeForDisplay(url), expected, actual));
  }
  DownloadResult result;
  result.size_bytes = static_cast<int64_t>(std::filesystem::file_size(part, error));
  std::filesystem::rename(part, dest, error);
  if (error) {
    return Unavailable(
        fmt::format("cannot move {} to {}: {}", part.string(), dest.string(), error.message()));
  }
  result.path = dest;
  result.sha256 = actual;
  result.resumed_from = offset > 0 ? initial_offset : 0;
  result.effective_url = outcome.effective_url;
  return result;
}

}  // namespace rollgate
