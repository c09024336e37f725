#include "service/prometheus_query.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "intake/download.h"

namespace rollgate {

namespace {

// An API answer is a few hundred bytes; anything far larger is not one.
constexpr size_t kMaxAnswerBytes = 4 * 1024 * 1024;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct CurlStringDeleter {
  void operator()(char* text) const { curl_free(text); }
};

// "<scheme>://[user[:password]@]host..." without the user:password part.
std::string WithoutCredentials(const std::string& url) {
  size_t authority = url.find("://");
  if (authority == std::string::npos) return url;
  authority += 3;
  size_t end = url.find_first_of("/?#", authority);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < authority) return url;
  return url.substr(0, authority) + url.substr(at + 1);
}

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

// The value of a sample: [<unix time>, "<number>"].
Result<double> SampleValue(const nlohmann::json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) {
    return InvalidArgument("the Prometheus answer has a sample that is not [time, \"value\"]");
  }
  const std::string text = pair[1].get<std::string>();
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool parsed = error == std::errc() && end == text.data() + text.size();
  if (!parsed && text != "NaN" && text != "+Inf" && text != "-Inf") {
    return InvalidArgument(
        fmt::format("the Prometheus answer's value '{}' is not a number", EscapeForDisplay(text)));
  }
  if (!parsed || !std::isfinite(value)) {
    return InvalidArgument(fmt::format(
        "the query's value is {}: no figure (a ratio over a range without requests is NaN)",
        EscapeForDisplay(text)));
  }
  return value;
}

// "bad_data: 1:5: parse error: ..." from an answer with status "error"; empty when the body is
// not one.
std::string ErrorOf(const nlohmann::json& answer) {
  if (!answer.is_object() || !answer.contains("error")) return "";
  const nlohmann::json& error = answer["error"];
  std::string type = answer.value("errorType", std::string());
  std::string text = error.is_string() ? error.get<std::string>() : error.dump();
  return EscapeForDisplay(type.empty() ? text : type + ": " + text);
}

}  // namespace

Result<double> ParsePrometheusResponse(std::string_view body) {
  nlohmann::json answer = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) {
    return InvalidArgument("the answer is not the Prometheus API's JSON");
  }
  std::string status = answer.value("status", std::string());
  if (status == "error") {
    return Unavailable(fmt::format("Prometheus answered with an error: {}", ErrorOf(answer)));
  }
  if (status != "success") {
    return InvalidArgument(fmt::format("the Prometheus answer's status is '{}', not 'success'",
                                       EscapeForDisplay(status)));
  }
  const nlohmann::json data = answer.value("data", nlohmann::json());
  if (!data.is_object()) return InvalidArgument("the Prometheus answer has no data");
  std::string type = data.value("resultType", std::string());
  const nlohmann::json result = data.value("result", nlohmann::json());
  if (type == "scalar") return SampleValue(result);
  if (type != "vector") {
    return InvalidArgument(
        fmt::format("the query gives a {} result; an instant vector or a scalar is needed",
                    type.empty() ? std::string("typeless") : EscapeForDisplay(type)));
  }
  if (!result.is_array()) return InvalidArgument("the Prometheus answer's vector is not a list");
  if (result.empty()) return NotFound("no data: the query's vector is empty");
  if (result.size() > 1) {
    return InvalidArgument(
        fmt::format("the query gives {} samples, one is needed (aggregate it, e.g. with sum(...))",
                    result.size()));
  }
  const nlohmann::json& sample = result[0];
  if (!sample.is_object() || !sample.contains("value")) {
    return InvalidArgument("the Prometheus answer's sample has no value");
  }
  return SampleValue(sample["value"]);
}

Result<double> QueryPrometheus(const std::string& base_url, const std::string& promql,
                               Seconds timeout) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string where = EscapeForDisplay(WithoutCredentials(base) + "/api/v1/query");
  std::string lower = ToLower(base);
  bool http = (StartsWith(lower, "http://") && lower.size() > 7) ||
              (StartsWith(lower, "https://") && lower.size() > 8);
  for (char c : base) {
    auto byte = static_cast<unsigned char>(c);
    http = http && byte > 0x20 && byte != 0x7f;
  }
  if (!http) {
    return InvalidArgument(
        fmt::format("Prometheus URL \"{}\": must be an http:// or https:// URL without spaces",
                    EscapeForDisplay(WithoutCredentials(base_url))));
  }
  if (promql.empty()) return InvalidArgument("the Prometheus query is empty");
  RETURN_IF_ERROR(EnsureCurlInitialised());
  CurlHandle curl(curl_easy_init());
  if (!curl) return Internal("libcurl: cannot create a transfer handle");
  CURL* handle = curl.get();
  std::unique_ptr<char, CurlStringDeleter> encoded(
      curl_easy_escape(handle, promql.data(), static_cast<int>(promql.size())));
  if (!encoded) return Internal("libcurl: cannot encode the query");
  const std::string url = base + "/api/v1/query?query=" + encoded.get();

  Answer answer;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count() * 1000));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "rollgate");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &answer);
  CURLcode code = curl_easy_perform(handle);
  long http_status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &http_status);

  // The one place libcurl's results and HTTP statuses become a Status.
  if (answer.too_large) {
    return InvalidArgument(
        fmt::format("{}: the answer exceeds {} bytes: not a query result", where, kMaxAnswerBytes));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return Unavailable(fmt::format("{}: no answer within {} s", where, timeout.count()));
  }
  if (code != CURLE_OK) {
    // libcurl's generic text: its error buffer may repeat the URL with its query.
    return Unavailable(fmt::format("{}: {}", where, curl_easy_strerror(code)));
  }
  if (http_status != 200) {
    nlohmann::json error = nlohmann::json::parse(answer.body, nullptr, false);
    std::string detail = error.is_discarded() ? "" : ErrorOf(error);
    std::string message =
        fmt::format("{}: HTTP {}{}", where, http_status, detail.empty() ? "" : " (" + detail + ")");
    if (http_status == 400 && error.is_object() &&
        error.value("errorType", std::string()) == "bad_data") {
      return InvalidArgument(fmt::format("the query is refused as invalid: {}", message));
    }
    return Unavailable(message);
  }
  Result<double> value = ParsePrometheusResponse(answer.body);
  if (!value.ok()) return value.error().WithContext(where);
  return value;
}

}  // namespace rollgate
