#include "notify/message_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/strings.h"

namespace rollgate::notify {

namespace {

bool IsAddressChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  return std::string_view("<>()[],;:\\\"").find(c) == std::string_view::npos;
}

// Body text with CRLF line ends (a lone CR or LF becomes CRLF).
std::string ToCrlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Dump(const nlohmann::json& document) {
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Status ValidateMailAddress(std::string_view address) {
  size_t at = address.find('@');
  bool ok = !address.empty() && address.size() <= 254 && at != std::string_view::npos && at > 0 &&
            at + 1 < address.size() && address.find('@', at + 1) == std::string_view::npos &&
            std::all_of(address.begin(), address.end(), IsAddressChar);
  if (ok) return Status::Ok();
  return InvalidArgument(fmt::format(
      "invalid e-mail address '{}': expected local@domain without spaces, quotes, brackets or "
      "control characters",
      EscapeForDisplay(address.substr(0, 100))));
}

Result<std::vector<std::string>> ParseAddressList(std::string_view list) {
  std::vector<std::string> out;
  for (const std::string& part : Split(list, ',')) {
    std::string address(Trim(part));
    if (address.empty()) continue;
    RETURN_IF_ERROR(ValidateMailAddress(address));
    out.push_back(address);
  }
  if (out.empty()) return InvalidArgument("no e-mail address to send to");
  return out;
}

std::string SanitizeHeaderText(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string EncodeHeaderText(std::string_view text) {
  bool ascii = std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F;
  });
  if (ascii && text.find("=?") == std::string_view::npos) return std::string(text);
  // Encoded words of at most 45 bytes of text (60 base64 characters), split between UTF-8
  // characters, folded onto continuation lines.
  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + 45);
    while (end < text.size() && end > start + 1 &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    words.push_back("=?UTF-8?B?" + EncodeBase64(text.substr(start, end - start)) + "?=");
    start = end;
  }
  return Join(words, "\r\n ");
}

std::string FormatRfc5322Date(Timestamp t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  weekday wd{day};
  hh_mm_ss<seconds> hms{duration_cast<seconds>(t - day)};
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[wd.c_encoding()],
                     static_cast<unsigned>(ymd.day()),
                     kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string MakeMessageId(int64_t id, Timestamp now, std::string_view from) {
  size_t at = from.find('@');
  std::string domain =
      at == std::string_view::npos ? "rollgate.invalid" : std::string(from.substr(at + 1));
  return fmt::format("<rollgate.{}.{}@{}>", id, now.time_since_epoch().count(), domain);
}

std::string RenderEmail(const EmailEnvelope& envelope, const OutgoingMessage& message,
                        Timestamp now) {
  std::string out;
  out += "From: " + envelope.from + "\r\n";
  out += "To: " + Join(envelope.to, ", ") + "\r\n";
  out += "Subject: " + EncodeHeaderText(SanitizeHeaderText(message.subject)) + "\r\n";
  out += "Date: " + FormatRfc5322Date(now) + "\r\n";
  out += "Message-ID: " + envelope.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";
  std::string body = ToCrlf(message.body);
  if (!body.empty() && !body.ends_with("\r\n")) body += "\r\n";
  out += body;
  return out;
}

Result<WebhookFormat> ParseWebhookFormat(std::string_view name) {
  if (name.empty() || name == "generic") return WebhookFormat::kGeneric;
  if (name == "slack") return WebhookFormat::kSlack;
  if (name == "teams") return WebhookFormat::kTeams;
  return InvalidArgument(
      fmt::format("unknown webhook format '{}': expected slack, teams or generic",
                  EscapeForDisplay(name.substr(0, 40))));
}

std::string RenderWebhookPayload(WebhookFormat format, const OutgoingMessage& message) {
  switch (format) {
    case WebhookFormat::kSlack:
      return Dump({{"text", "*" + message.subject + "*\n" + message.body}});
    case WebhookFormat::kTeams:
      return Dump({{"@type", "MessageCard"},
                   {"@context", "https://schema.org/extensions"},
                   {"summary", message.subject},
                   {"title", message.subject},
                   {"text", message.body}});
    case WebhookFormat::kGeneric:
      break;
  }
  return Dump({{"subject", message.subject},
               {"body", message.body},
               {"cr", message.change_request},
               {"environment", message.environment},
               {"run", message.run},
               {"recipient", message.person}});
}

std::string AlertNameFor(std::string_view subject) {
  std::string_view tag = subject;
  if (!tag.empty() && tag.front() == '[') {
    size_t close = tag.find(']');
    tag = tag.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  } else if (size_t dash = tag.find(" - "); dash != std::string_view::npos) {
    tag = tag.substr(0, dash);
  }
  std::string name = "Rollgate";
  int words = 0;
  bool in_word = false;
  for (char c : tag) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter) {
      in_word = false;
      continue;
    }
    if (!in_word) {
      if (words == 4) break;
      ++words;
      in_word = true;
      name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    } else {
      name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return words == 0 ? std::string("RollgateNotification") : name;
}

std::string RenderAlertmanagerPayload(const OutgoingMessage& message, std::string_view severity,
                                      const std::map<std::string, std::string>& extra_labels,
                                      Timestamp now, Seconds lasting) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [name, value] : extra_labels) {
    std::string clean = SanitizeHeaderText(value);
    if (!clean.empty()) labels[name] = clean;
  }
  auto label = [&](const char* name, std::string_view value) {
    std::string clean = SanitizeHeaderText(value);
    if (!clean.empty()) labels[name] = clean;
  };
  labels["alertname"] = AlertNameFor(SanitizeHeaderText(message.subject));
  label("severity", severity.empty() ? std::string_view("warning") : severity);
  label("system", message.system);
  label("environment", message.environment);
  label("change_request", message.change_request);
  nlohmann::json alert = {
      {"labels", labels},
      {"annotations",
       {{"summary", SanitizeHeaderText(message.subject)}, {"description", message.body}}},
      {"startsAt", FormatRfc3339Utc(now)},
      {"endsAt", FormatRfc3339Utc(now + lasting)}};
  return nlohmann::json::array({alert}).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
}

}  // namespace rollgate::notify
