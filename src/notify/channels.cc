#include "notify/channels.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "common/strings.h"
#include "transport/local_transport.h"

namespace rollgate::notify {

namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Status CurlInit() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (code != CURLE_OK) return Internal("libcurl could not be initialised");
  return Status::Ok();
}

std::string Setting(const Channel& channel, const std::string& key) {
  auto it = channel.settings.find(key);
  return it == channel.settings.end() ? std::string() : it->second;
}

// scheme://host[:port] of `url`: no user information, path or query (a webhook's path is often
// its secret).
std::string ShownUrl(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "(invalid URL)";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return std::string(url.substr(0, scheme + 3)) + std::string(rest);
}

// `text` with every occurrence of `secret` masked.
std::string Redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "***");
  }
  return text;
}

// The first bytes of a response body, on one line.
std::string BodyExcerpt(std::string_view body) {
  std::string shown = EscapeForDisplay(body.substr(0, kErrorBodyBytes));
  if (body.size() > kErrorBodyBytes) shown += "...";
  return shown;
}

struct UploadState {
  std::string_view data;
  size_t position = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* state = static_cast<UploadState*>(user);
  size_t n = std::min(size * count, state->data.size() - state->position);
  std::copy_n(state->data.data() + state->position, n, buffer);
  state->position += n;
  return n;
}

size_t KeepResponse(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  size_t bytes = size * count;
  if (body->size() < kMaxResponseBytes) {
    body->append(data, std::min(bytes, kMaxResponseBytes - body->size()));
  }
  return bytes;  // the rest is read and dropped
}

// The password of an e-mail channel: `password_env` names an environment variable; `password`
// is a reference (env:NAME or file:/path). Empty when neither is set.
Result<std::string> Password(const Channel& channel, const DeliveryContext& context) {
  std::string variable = Setting(channel, "password_env");
  std::string reference = Setting(channel, "password");
  if (variable.empty() && StartsWith(reference, "env:")) variable = reference.substr(4);
  if (!variable.empty()) {
    std::optional<std::string> value = context.environment(variable);
    if (!value || value->empty()) {
      return Unavailable(
          fmt::format("channel {}: the password variable {} is not set in rollgate's environment",
                      channel.name, variable));
    }
    return *value;
  }
  if (StartsWith(reference, "file:")) {
    std::ifstream file(reference.substr(5));
    std::stringstream text;
    text << file.rdbuf();
    if (!file) {
      return Unavailable(fmt::format("channel {}: the password file {} cannot be read",
                                     channel.name, EscapeForDisplay(reference.substr(5))));
    }
    std::string value = text.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
  }
  return std::string();
}

}  // namespace

std::optional<std::string> ReadProcessEnvironment(const std::string& name) {
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<Seconds> ChannelTimeout(const Channel& channel) {
  std::string text = Setting(channel, "timeout");
  if (text.empty()) return kDefaultDeliveryTimeout;
  if (text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 6) {
    int seconds = std::stoi(text);
    if (seconds > 0) return Seconds(seconds);
  }
  Result<Seconds> parsed = ParseDuration(text);
  if (!parsed.ok()) {
    return InvalidArgument(
        fmt::format("channel {}: invalid timeout: {}", channel.name, parsed.error().message()));
  }
  return *parsed;
}

std::string PlainText(const OutgoingMessage& message) {
  std::string to_line;
  if (!message.person.empty()) {
    to_line = fmt::format(
        "To: {}{}\n", message.recipient_name.empty() ? message.person : message.recipient_name,
        message.recipient_email.empty() ? "" : " <" + message.recipient_email + ">");
  }
  return to_line + "Subject: " + message.subject + "\n\n" + message.body;
}

Result<std::string> DeliverEmail(const Channel& channel, const OutgoingMessage& message,
                                 const DeliveryContext& context) {
  std::string url = Setting(channel, "url");
  if (!StartsWith(url, "smtp://") && !StartsWith(url, "smtps://")) {
    return InvalidArgument(fmt::format(
        "channel {}: settings.url must be smtp://host:port or smtps://host:port", channel.name));
  }
  std::string from = Setting(channel, "from");
  if (Status status = ValidateMailAddress(from); !status.ok()) {
    return InvalidArgument(
        fmt::format("channel {}: settings.from: {}", channel.name, status.message()));
  }
  std::string to_list = Setting(channel, "to");
  if (to_list.empty()) to_list = message.recipient_email;
  Result<std::vector<std::string>> to = ParseAddressList(to_list);
  if (!to.ok()) {
    return InvalidArgument(fmt::format(
        "channel {}: {}{}", channel.name, to.error().message(),
        message.person.empty() ? " (set settings.to or the group's email)"
                               : " (set settings.to or " + message.person + "'s email)"));
  }
  ASSIGN_OR_RETURN(Seconds timeout, ChannelTimeout(channel));
  ASSIGN_OR_RETURN(std::string password, Password(channel, context));
  RETURN_IF_ERROR(CurlInit());

  EmailEnvelope envelope{from, *to, MakeMessageId(message.id, context.now, from)};
  std::string text = RenderEmail(envelope, message, context.now);
  CurlHandle curl(curl_easy_init());
  if (!curl) return Internal("libcurl: cannot create a transfer handle");
  CURL* handle = curl.get();
  Slist recipients;
  for (const std::string& address : *to) {
    curl_slist* list = curl_slist_append(recipients.get(), ("<" + address + ">").c_str());
    if (list == nullptr) return Internal("libcurl: out of memory");
    (void)recipients.release();
    recipients.reset(list);
  }
  UploadState upload{text, 0};
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::string mail_from = "<" + from + ">";
  std::string username = Setting(channel, "username");
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(handle, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
  curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(text.size()));
  if (Setting(channel, "starttls") == "true") {
    curl_easy_setopt(handle, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!username.empty()) curl_easy_setopt(handle, CURLOPT_USERNAME, username.c_str());
  if (!password.empty()) curl_easy_setopt(handle, CURLOPT_PASSWORD, password.c_str());
  long timeout_ms = static_cast<long>(timeout.count()) * 1000;
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    long response = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response);
    std::string error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return Unavailable(
        Redact(fmt::format("SMTP to {} failed: {}{}", ShownUrl(url), error,
                           response != 0 ? fmt::format(" (reply {})", response) : ""),
               password));
  }
  return fmt::format("mailed to {} through {}", Join(*to, ", "), ShownUrl(url));
}

// POSTs the JSON `payload` to `url` with `headers`: the HTTP status of a 2xx answer, else
// Unavailable naming the target ("Alertmanager " or "") and the URL as shown, with `secrets`
// redacted. `curl_detail`: libcurl's error buffer in the message, else its generic text (the
// buffer could repeat a URL with user information).
Result<long> PostJson(const std::string& url, const std::string& payload, curl_slist* headers,
                      Seconds timeout, std::string_view target, bool curl_detail,
                      const std::vector<std::string>& secrets) {
  CurlHandle curl(curl_easy_init());
  if (!curl) return Internal("libcurl: cannot create a transfer handle");
  CURL* handle = curl.get();
  std::string body;
  char error_buffer[CURL_ERROR_SIZE] = {};
  long timeout_ms = static_cast<long>(timeout.count()) * 1000;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "rollgate-notify");
  if (curl_detail) curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &KeepResponse);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    std::string error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return Unavailable(fmt::format("POST to {}{} failed: {}", target, ShownUrl(url), error));
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    std::string error = fmt::format("POST to {}{} answered HTTP {}: {}", target, ShownUrl(url),
                                    status, BodyExcerpt(body));
    for (const std::string& secret : secrets) error = Redact(error, secret);
    return Unavailable(error);
  }
  return status;
}

Result<std::string> DeliverWebhook(const Channel& channel, const OutgoingMessage& message,
                                   const DeliveryContext& context) {
  std::string url = Setting(channel, "url");
  std::vector<std::string> secrets;
  if (!StartsWith(url, "http://") && !StartsWith(url, "https://")) {
    return InvalidArgument(
        fmt::format("channel {}: settings.url must be an http:// or https:// URL", channel.name));
  }
  Result<WebhookFormat> format = ParseWebhookFormat(Setting(channel, "format"));
  if (!format.ok()) {
    return InvalidArgument(fmt::format("channel {}: {}", channel.name, format.error().message()));
  }
  ASSIGN_OR_RETURN(Seconds timeout, ChannelTimeout(channel));
  RETURN_IF_ERROR(CurlInit());
  std::string payload = RenderWebhookPayload(*format, message);
  Slist headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  if (!headers) return Internal("libcurl: out of memory");
  for (const auto& [key, value] : channel.settings) {
    if (!StartsWith(key, "header:")) continue;
    std::string header_value = value;
    if (StartsWith(value, "env:")) {
      // A secret header (Authorization) names the environment variable that holds it.
      std::optional<std::string> from_env = context.environment(value.substr(4));
      if (!from_env) {
        return Unavailable(fmt::format("channel {}: the header variable {} is not set",
                                       channel.name, value.substr(4)));
      }
      secrets.push_back(*from_env);
      header_value = *from_env;
    }
    std::string line = SanitizeHeaderText(key.substr(7)) + ": " + SanitizeHeaderText(header_value);
    curl_slist* list = curl_slist_append(headers.get(), line.c_str());
    if (list == nullptr) return Internal("libcurl: out of memory");
    (void)headers.release();
    headers.reset(list);
  }
  ASSIGN_OR_RETURN(long status, PostJson(url, payload, headers.get(), timeout, "", true, secrets));
  return fmt::format("posted to {} (HTTP {})", ShownUrl(url), status);
}

Result<std::string> DeliverAlertmanager(const Channel& channel, const OutgoingMessage& message,
                                        const DeliveryContext& context) {
  std::string base = Setting(channel, "url");
  if (!StartsWith(base, "http://") && !StartsWith(base, "https://")) {
    return InvalidArgument(
        fmt::format("channel {}: settings.url must be an http:// or https:// URL", channel.name));
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + "/api/v2/alerts";
  Seconds timeout = Seconds(10);
  if (channel.settings.contains("timeout")) {
    ASSIGN_OR_RETURN(timeout, ChannelTimeout(channel));
  }
  std::map<std::string, std::string> labels;
  for (const auto& [key, value] : channel.settings) {
    if (StartsWith(key, "label:")) labels[key.substr(6)] = value;
  }
  std::string severity = Setting(channel, "severity");
  std::string payload = RenderAlertmanagerPayload(message, severity.empty() ? "warning" : severity,
                                                  labels, context.now, std::chrono::hours(1));
  RETURN_IF_ERROR(CurlInit());
  Slist headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  if (!headers) return Internal("libcurl: out of memory");
  ASSIGN_OR_RETURN(long status,
                   PostJson(url, payload, headers.get(), timeout, "Alertmanager ", false, {}));
  return fmt::format("alert posted to Alertmanager {} (HTTP {})", ShownUrl(url), status);
}

Result<std::string> DeliverCommand(const Channel& channel, const OutgoingMessage& message,
                                   const DeliveryContext& context) {
  std::string command = Setting(channel, "command");
  if (command.empty()) {
    return InvalidArgument(fmt::format("channel {}: settings.command is missing", channel.name));
  }
  if (context.clock == nullptr) return Internal("a command channel needs a clock");
  Seconds timeout = Seconds(60);
  if (channel.settings.contains("timeout")) {
    ASSIGN_OR_RETURN(timeout, ChannelTimeout(channel));
  }
  CommandSpec spec;
  spec.argv = {"sh", "-c", command};
  spec.stdin_data = PlainText(message);
  spec.env = {{"ROLLGATE_SUBJECT", SanitizeHeaderText(message.subject)},
              {"ROLLGATE_CR", message.change_request},
              {"ROLLGATE_ENVIRONMENT", message.environment}};
  if (!message.person.empty()) {
    spec.env["ROLLGATE_RECIPIENT"] = message.person;
    spec.env["ROLLGATE_RECIPIENT_NAME"] = message.recipient_name;
    spec.env["ROLLGATE_RECIPIENT_EMAIL"] = message.recipient_email;
    spec.env["ROLLGATE_RECIPIENT_PHONE"] = message.recipient_phone;
  }
  spec.timeout = timeout;
  spec.output_limit = 1024;
  LocalTransport local(*context.clock);
  Result<CommandResult> result = local.Run(HostAddress{"localhost", "", 0}, spec);
  if (!result.ok()) {
    return Unavailable(
        fmt::format("command of channel {} failed: {}", channel.name, result.error().message()));
  }
  if (result->exit_code != 0) {
    return Unavailable(fmt::format("command of channel {} exited {}: {}", channel.name,
                                   result->exit_code, BodyExcerpt(result->output_tail)));
  }
  return fmt::format("sent through {}", channel.name);
}

Result<std::string> DeliverFile(const Channel& channel, const OutgoingMessage& message,
                                const DeliveryContext& context) {
  std::filesystem::path path = Setting(channel, "path");
  if (path.empty()) {
    return InvalidArgument(fmt::format("channel {}: settings.path is missing", channel.name));
  }
  if (path.is_relative()) path = context.base_dir / path;
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream file(path, std::ios::app);
  file << PlainText(message) << "\n";
  file.flush();
  if (!file) return Unavailable(fmt::format("cannot append to {}", path.string()));
  return fmt::format("written to {}", path.string());
}

Result<std::string> Deliver(const Channel& channel, const OutgoingMessage& message,
                            const DeliveryContext& context) {
  if (channel.type == "email") return DeliverEmail(channel, message, context);
  if (channel.type == "webhook") return DeliverWebhook(channel, message, context);
  if (channel.type == "command") return DeliverCommand(channel, message, context);
  if (channel.type == "file") return DeliverFile(channel, message, context);
  if (channel.type == "alertmanager") return DeliverAlertmanager(channel, message, context);
  return InvalidArgument(
      fmt::format("channel {}: unknown type {}", channel.name, EscapeForDisplay(channel.type)));
}

}  // namespace rollgate::notify
