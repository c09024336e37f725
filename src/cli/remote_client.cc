#include "cli/remote_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <cctype>
#include <memory>

#include "common/strings.h"

namespace rollgate::cli {

namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

constexpr size_t kMaxAnswer = 64 << 20;  // the largest answer read (a long audit page)

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t n = size * count;
  if (out->size() + n > kMaxAnswer) return 0;  // curl reports a write error
  out->append(data, n);
  return n;
}

}  // namespace

Status StatusFromApiError(int http_status, const nlohmann::json& document) {
  std::string code, message;
  if (document.is_object() && document.contains("error") && document["error"].is_object()) {
    const nlohmann::json& error = document["error"];
    if (error.contains("code") && error["code"].is_string()) code = error["code"];
    if (error.contains("message") && error["message"].is_string()) message = error["message"];
    if (error.contains("field") && error["field"].is_string()) {
      message += fmt::format(" (field '{}')", error["field"].get<std::string>());
    }
  }
  if (message.empty()) message = fmt::format("the server answered HTTP {}", http_status);
  message = "server: " + message;
  for (StatusCode candidate :
       {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kConflict,
        StatusCode::kPermissionDenied, StatusCode::kRefusedByGate, StatusCode::kUnavailable,
        StatusCode::kDeadlineExceeded, StatusCode::kCorruption, StatusCode::kFailed,
        StatusCode::kInternal}) {
    if (code == StatusCodeName(candidate)) return Status(candidate, message);
  }
  if (code == "UNAUTHENTICATED") return PermissionDenied(message);
  switch (http_status) {
    case 400:
    case 405:
    case 413:
    case 414:
      return InvalidArgument(message);
    case 401:
    case 403:
      return PermissionDenied(message);
    case 404:
      return NotFound(message);
    case 409:
      return Conflict(message);
    case 503:
      return Unavailable(message);
    default:
      return Internal(message);
  }
}

Result<RemoteClient> RemoteClient::Create(std::string server, std::string token,
                                          std::string ca_file) {
  while (!server.empty() && server.back() == '/') server.pop_back();
  std::string_view rest = server;
  if (StartsWith(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (StartsWith(rest, "https://")) {
    rest.remove_prefix(8);
  } else {
    return InvalidArgument(fmt::format(
        "--server {}: expected http://HOST:PORT or https://HOST:PORT", EscapeForDisplay(server)));
  }
  bool bad = rest.empty() || rest.find_first_of("/?#@ \t\r\n") != std::string_view::npos;
  for (char c : rest) bad = bad || static_cast<unsigned char>(c) < 0x20;
  if (bad) {
    return InvalidArgument(fmt::format(
        "--server {}: expected http://HOST:PORT or https://HOST:PORT, with nothing after the port",
        EscapeForDisplay(server)));
  }
  if (token.empty()) {
    return PermissionDenied(
        "remote mode needs a token in $ROLLGATE_TOKEN (create one with `rollgate token create` "
        "where the store is)");
  }
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    return InvalidArgument("$ROLLGATE_TOKEN holds white space or a line break: not a token");
  }
  return RemoteClient(std::move(server), std::move(token), std::move(ca_file));
}

std::string RemoteClient::Segment(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<nlohmann::json> RemoteClient::Get(const std::string& path, const Query& query) const {
  std::string url = server_ + path;
  char separator = '?';
  for (const auto& [name, value] : query) {
    url += separator + Segment(name) + "=" + Segment(value);
    separator = '&';
  }
  return Send("GET", url, nullptr);
}

Result<nlohmann::json> RemoteClient::Post(const std::string& path,
                                          const nlohmann::json& body) const {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return Send("POST", server_ + path, &text);
}

Result<nlohmann::json> RemoteClient::Send(const std::string& method, const std::string& url,
                                          const std::string* body) const {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Internal("libcurl could not start");
  CURL* handle = curl.get();
  std::string answer;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &answer);
  // Every encoding libcurl can decode (the server gzips large documents, such as a run's).
  curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");
  if (!ca_file_.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, ca_file_.c_str());
  std::string authorization = "Authorization: Bearer " + token_;
  curl_slist* headers = curl_slist_append(nullptr, authorization.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  if (body != nullptr) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  std::unique_ptr<curl_slist, SlistDeleter> header_list(headers);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  CURLcode sent = curl_easy_perform(handle);
  if (sent != CURLE_OK) {
    // The URL is the server's plus our path: it holds no secret (the token is a header).
    return Unavailable(
        fmt::format("cannot reach the server {} ({} {}): {}", EscapeForDisplay(server_), method,
                    EscapeForDisplay(url.substr(server_.size())), curl_easy_strerror(sent)));
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  nlohmann::json document = nlohmann::json::parse(answer, nullptr, false);
  if (status >= 200 && status < 300) {
    if (document.is_discarded()) {
      return Internal(fmt::format("the server's answer to {} {} is not JSON", method,
                                  EscapeForDisplay(url.substr(server_.size()))));
    }
    return document;
  }
  return StatusFromApiError(static_cast<int>(status), document);
}

}  // namespace rollgate::cli
