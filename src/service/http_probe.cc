#include "service/http_probe.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>
#include <mutex>

#include "intake/download.h"

namespace rollgate {

namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct BodyState {
  std::string* body;
  size_t max_body;
};

size_t KeepBody(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<BodyState*>(user);
  size_t bytes = size * count;
  size_t room = state->max_body - std::min(state->max_body, state->body->size());
  state->body->append(data, std::min(room, bytes));
  return bytes;  // the rest is read and dropped, so the answer completes
}

}  // namespace

ProbeResponse CurlHttpProber::Get(const std::string& url, std::chrono::milliseconds timeout,
                                  size_t max_body) {
  ProbeResponse response;
  if (!EnsureCurlInitialised().ok()) {
    response.error = "libcurl could not be initialised";
    return response;
  }
  CurlHandle curl(curl_easy_init());
  if (!curl) {
    response.error = "libcurl: cannot create a transfer handle";
    return response;
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  BodyState state{&response.body, max_body};
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "rollgate-watch");
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &KeepBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &state);
  CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  double seconds = 0;
  curl_easy_getinfo(handle, CURLINFO_TOTAL_TIME, &seconds);
  response.http_status = static_cast<int>(status);
  response.ms = seconds * 1000.0;
  if (code != CURLE_OK) {
    response.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return response;
  }
  response.ok = status >= 200 && status < 300;
  if (!response.ok) response.error = fmt::format("HTTP status {}", status);
  return response;
}

}  // namespace rollgate
