#include "domain/oncall.h"

#include <fmt/format.h>

#include <algorithm>

namespace rollgate {

namespace {

using nlohmann::json;

void AddRecipient(std::vector<PageRecipient>& out, const std::string& person, std::string reason) {
  if (person.empty()) return;
  for (const PageRecipient& r : out) {
    if (r.person == person) return;
  }
  out.push_back({person, std::move(reason)});
}

std::string TimeText(Timestamp t) { return FormatRfc3339Utc(t); }

Result<Timestamp> TimeFrom(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) {
    return InvalidArgument(fmt::format("'{}' missing", key));
  }
  return ParseTime(j[key].get<std::string>(), FixedOffsetZone(Seconds(0)));
}

std::string StringFrom(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string_view PageStateName(PageState state) {
  switch (state) {
    case PageState::kOpen:
      return "open";
    case PageState::kAcknowledged:
      return "acknowledged";
    case PageState::kExhausted:
      return "exhausted";
  }
  return "open";
}

const EscalationPath* FindEscalationPath(const Config& config, std::string_view name) {
  for (const EscalationPath& path : config.escalation) {
    if (path.name == name) return &path;
  }
  return nullptr;
}

std::vector<PageRecipient> ResolveLevel(const Config& config, const EscalationLevel& level) {
  std::vector<PageRecipient> out;
  for (const Contact& contact : config.contacts) {
    if (contact.name != level.contact) continue;
    AddRecipient(out, contact.primary, contact.name + " primary");
    if (contact.primary.empty() || level.response_time == Seconds(0)) {
      AddRecipient(out, contact.backup, contact.name + " backup");
    }
    return out;
  }
  if (config.FindPerson(level.contact) != nullptr) {
    AddRecipient(out, level.contact, "named on the escalation path");
    return out;
  }
  for (const Person& person : config.people) {
    if (std::find(person.roles.begin(), person.roles.end(), level.contact) != person.roles.end()) {
      AddRecipient(out, person.name, level.contact);
    }
  }
  return out;
}

Result<Page> OpenPage(const EscalationPath& path, std::string id, std::string subject,
                      std::string message, std::string change_request, std::string environment,
                      std::string opened_by, Timestamp now) {
  if (path.levels.empty()) {
    return InvalidArgument(fmt::format("escalation path {} has no levels", path.name));
  }
  if (subject.empty()) return InvalidArgument("a page needs a subject");
  Page page;
  page.id = std::move(id);
  page.path = path.name;
  page.subject = std::move(subject);
  page.message = std::move(message);
  page.change_request = std::move(change_request);
  page.environment = std::move(environment);
  page.opened_by = std::move(opened_by);
  page.opened_at = now;
  page.level = 1;
  page.deadline = now + path.levels.front().response_time;
  page.events.push_back(
      {now, "opened", 1, page.opened_by,
       fmt::format("opened on the {} path by {}; level 1 ({}) to respond by {}", path.name,
                   page.opened_by, path.levels.front().contact, TimeText(page.deadline)),
       std::nullopt});
  return page;
}

std::vector<int> EscalateDue(Page& page, const EscalationPath& path, Timestamp now) {
  std::vector<int> reached;
  while (page.state == PageState::kOpen && now >= page.deadline) {
    Timestamp missed = page.deadline;
    if (page.level >= static_cast<int>(path.levels.size())) {
      page.state = PageState::kExhausted;
      page.events.push_back(
          {missed, "exhausted", page.level, "",
           fmt::format("level {} did not respond by {}: no level is left on the {} path; the page "
                       "stays open until acknowledged",
                       page.level, TimeText(missed), path.name),
           std::nullopt});
      break;
    }
    const EscalationLevel& next = path.levels[static_cast<size_t>(page.level)];
    page.level += 1;
    page.deadline = missed + next.response_time;
    page.events.push_back(
        {missed, "escalated", page.level, "",
         fmt::format("not acknowledged by {}: escalated to level {} ({}), to "
                     "respond by {}",
                     TimeText(missed), page.level, next.contact, TimeText(page.deadline)),
         std::nullopt});
    reached.push_back(page.level);
  }
  return reached;
}

bool MayAcknowledge(const Page& page, const Config& config, const EscalationPath& path,
                    std::string_view person) {
  if (person.empty()) return false;
  for (const PageEvent& e : page.events) {
    if (e.kind == "notified" && e.person == person) return true;
  }
  for (const EscalationLevel& level : path.levels) {
    for (const PageRecipient& r : ResolveLevel(config, level)) {
      if (r.person == person) return true;
    }
  }
  return false;
}

Status Acknowledge(Page& page, std::string_view person, Timestamp now) {
  if (page.state == PageState::kAcknowledged) {
    return Conflict(fmt::format("{} was already acknowledged by {} at {}", page.id,
                                page.acknowledged_by,
                                page.acknowledged_at ? TimeText(*page.acknowledged_at) : "?"));
  }
  bool late = page.state == PageState::kExhausted;
  page.state = PageState::kAcknowledged;
  page.acknowledged_at = now;
  page.acknowledged_by = std::string(person);
  page.events.push_back({now, "acknowledged", page.level, std::string(person),
                         fmt::format("acknowledged by {} at level {}{}", person, page.level,
                                     late ? " after every level had been paged" : ""),
                         std::nullopt});
  return Status::Ok();
}

json PageToJson(const Page& page) {
  json events = json::array();
  for (const PageEvent& e : page.events) {
    json event = {{"at", TimeText(e.at)},
                  {"kind", e.kind},
                  {"level", e.level},
                  {"person", e.person},
                  {"detail", e.detail}};
    if (e.delivered) event["delivered"] = *e.delivered;
    events.push_back(std::move(event));
  }
  json out = {{"id", page.id},
              {"path", page.path},
              {"subject", page.subject},
              {"message", page.message},
              {"change_request", page.change_request},
              {"environment", page.environment},
              {"opened_by", page.opened_by},
              {"opened_at", TimeText(page.opened_at)},
              {"state", PageStateName(page.state)},
              {"level", page.level},
              {"deadline", TimeText(page.deadline)},
              {"acknowledged_at", nullptr},
              {"acknowledged_by", page.acknowledged_by},
              {"events", std::move(events)}};
  if (page.acknowledged_at) out["acknowledged_at"] = TimeText(*page.acknowledged_at);
  return out;
}

Result<Page> PageFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("a page must be a JSON object");
  Page page;
  page.id = StringFrom(j, "id");
  page.path = StringFrom(j, "path");
  page.subject = StringFrom(j, "subject");
  page.message = StringFrom(j, "message");
  page.change_request = StringFrom(j, "change_request");
  page.environment = StringFrom(j, "environment");
  page.opened_by = StringFrom(j, "opened_by");
  page.acknowledged_by = StringFrom(j, "acknowledged_by");
  ASSIGN_OR_RETURN(page.opened_at, TimeFrom(j, "opened_at"));
  ASSIGN_OR_RETURN(page.deadline, TimeFrom(j, "deadline"));
  if (j.contains("acknowledged_at") && j["acknowledged_at"].is_string()) {
    ASSIGN_OR_RETURN(Timestamp at, TimeFrom(j, "acknowledged_at"));
    page.acknowledged_at = at;
  }
  std::string state = StringFrom(j, "state");
  if (state == "open") {
    page.state = PageState::kOpen;
  } else if (state == "acknowledged") {
    page.state = PageState::kAcknowledged;
  } else if (state == "exhausted") {
    page.state = PageState::kExhausted;
  } else {
    return InvalidArgument(fmt::format("unknown page state '{}'", state));
  }
  if (!j.contains("level") || !j["level"].is_number_integer()) {
    return InvalidArgument("'level' missing");
  }
  page.level = j["level"].get<int>();
  if (j.contains("events") && j["events"].is_array()) {
    for (const json& e : j["events"]) {
      PageEvent event;
      ASSIGN_OR_RETURN(event.at, TimeFrom(e, "at"));
      event.kind = StringFrom(e, "kind");
      event.level = e.value("level", 0);
      event.person = StringFrom(e, "person");
      event.detail = StringFrom(e, "detail");
      if (e.contains("delivered") && e["delivered"].is_boolean()) {
        event.delivered = e["delivered"].get<bool>();
      }
      page.events.push_back(std::move(event));
    }
  }
  return page;
}

}  // namespace rollgate
