#include "service/alertmanager_query.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "intake/download.h"

namespace rollgate {

namespace {

// A list of alerts for one system is small; anything far larger is not an answer to read.
constexpr size_t kMaxAnswerBytes = 8 * 1024 * 1024;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct CurlStringDeleter {
  void operator()(char* text) const { curl_free(text); }
};

struct Answer {
  std::string body;
  bool too_large = false;
};

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Answer*>(user);
  size_t bytes = size * count;
  if (answer->body.size() + bytes > kMaxAnswerBytes) {
    answer->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  answer->body.append(data, bytes);
  return bytes;
}

bool IsHttpUrl(const std::string& url) {
  std::string lower = ToLower(url);
  bool http = (StartsWith(lower, "http://") && lower.size() > 7) ||
              (StartsWith(lower, "https://") && lower.size() > 8);
  return http && std::all_of(url.begin(), url.end(), [](char c) {
           auto byte = static_cast<unsigned char>(c);
           return byte > 0x20 && byte != 0x7f;
         });
}

}  // namespace

std::string AlertmanagerShownUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "(invalid URL)";
  std::string rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  return EscapeForDisplay(url.substr(0, scheme + 3) + rest);
}

Result<std::vector<FiringAlert>> QueryAlertmanager(const std::string& base_url,
                                                   const std::vector<std::string>& matchers,
                                                   const std::vector<std::string>& severities,
                                                   Seconds timeout) {
  const std::string where = AlertmanagerShownUrl(base_url);
  if (!IsHttpUrl(base_url)) {
    return InvalidArgument(fmt::format(
        "Alertmanager URL \"{}\": must be an http:// or https:// URL without spaces", where));
  }
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::vector<AlertMatcher> parsed;
  for (const std::string& text : matchers) {
    Result<AlertMatcher> matcher = ParseAlertMatcher(text);
    if (!matcher.ok()) return matcher.error();
    parsed.push_back(*matcher);
  }
  timeout = std::clamp(timeout, Seconds(1), kMaxAlertmanagerTimeout);
  RETURN_IF_ERROR(EnsureCurlInitialised());
  CurlHandle curl(curl_easy_init());
  if (!curl) return Internal("libcurl: cannot create a transfer handle");
  CURL* handle = curl.get();
  std::string url = base + "/api/v2/alerts?active=true&silenced=false&inhibited=false";
  for (const AlertMatcher& matcher : parsed) {
    std::string filter = AlertMatcherFilter(matcher);
    std::unique_ptr<char, CurlStringDeleter> encoded(
        curl_easy_escape(handle, filter.data(), static_cast<int>(filter.size())));
    if (!encoded) return Internal("libcurl: cannot encode a matcher");
    url += "&filter=";
    url += encoded.get();
  }

  Answer answer;
  long timeout_ms = static_cast<long>(timeout.count()) * 1000;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "rollgate");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &answer);
  CURLcode code = curl_easy_perform(handle);
  long http_status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &http_status);

  // The one place libcurl's results and HTTP statuses of Alertmanager become a Status.
  if (answer.too_large) {
    return InvalidArgument(
        fmt::format("Alertmanager {}: the answer exceeds {} bytes", where, kMaxAnswerBytes));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return Unavailable(
        fmt::format("Alertmanager {}: no answer within {} s", where, timeout.count()));
  }
  if (code != CURLE_OK) {
    // libcurl's generic text: its error buffer may repeat the URL with its query.
    return Unavailable(fmt::format("Alertmanager {}: {}", where, curl_easy_strerror(code)));
  }
  if (http_status < 200 || http_status > 299) {
    std::string excerpt = EscapeForDisplay(answer.body.substr(0, 200));
    std::string message = fmt::format("Alertmanager {}: HTTP {}{}", where, http_status,
                                      excerpt.empty() ? "" : " (" + excerpt + ")");
    if (http_status == 400) return InvalidArgument(message);
    return Unavailable(message);
  }
  Result<std::vector<FiringAlert>> alerts = ParseAlertmanagerAlerts(answer.body, severities);
  if (!alerts.ok()) return alerts.error().WithContext("Alertmanager " + where);
  return alerts;
}

std::vector<std::string> ExpandedMatchers(const System::AlertmanagerSource& source,
                                          const std::string& environment) {
  std::vector<std::string> out;
  for (const std::string& m : source.matchers) out.push_back(ExpandAlertMatcher(m, environment));
  return out;
}

AlertmanagerCheck RealAlertmanagerCheck(Seconds timeout) {
  return [timeout](const System::AlertmanagerSource& source, const std::string& environment) {
    return QueryAlertmanager(source.url, ExpandedMatchers(source, environment), source.severities,
                             timeout);
  };
}

}  // namespace rollgate
