#include "domain/message_templates.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace rollgate {

const std::map<std::string, std::vector<std::string>>& MessageTemplatePlaceholders() {
  static const std::vector<std::string> kDeployment = {
      "cr",      "system",  "environment", "patch",    "version",
      "run",     "started", "finished",    "duration", "expected_completion",
      "outcome", "smoke",   "errors",      "reason",   "approved_by"};
  auto with = [](std::vector<std::string> more) {
    std::vector<std::string> all = kDeployment;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  static const std::map<std::string, std::vector<std::string>> kTemplates = {
      {"deployment-start", kDeployment},
      {"deployment-complete", kDeployment},
      {"rollback-start", kDeployment},
      {"rollback-complete", kDeployment},
      {"rollback-progress", with({"current_step", "status", "issues", "now", "elapsed"})},
      {"decision-needed", with({"triggers", "deadline", "on_deadline"})},
      {"database-held", with({"writes", "current_dump"})},
      {"advance-notice",
       {"cr", "title", "system", "environment", "planned", "expected_duration",
        "expected_completion", "affected_systems", "rollback_plan", "contact", "late"}},
      {"emergency-approval-request",
       {"cr", "system", "environment", "patch", "incident", "classification", "cvss", "references",
        "impact", "risk", "why_not_normal", "requestor", "time"}},
  };
  return kTemplates;
}

std::map<std::string, std::string> DeploymentFactValues(const DeploymentFacts& f,
                                                        const TimeZone& zone) {
  std::string patch(Trim(f.patch));
  size_t space = patch.find(' ');
  return {{"cr", f.change_request},
          {"system", f.system},
          {"environment", f.environment},
          {"patch", patch},
          {"version", space == std::string::npos ? "" : patch.substr(space + 1)},
          {"run", f.run},
          {"started", FormatLocalMinutes(f.started, zone)},
          {"finished", FormatLocalMinutes(f.finished, zone)},
          {"duration", FormatDuration(std::chrono::duration_cast<Seconds>(f.finished - f.started))},
          {"expected_completion", FormatLocalMinutes(f.started + f.expected_duration, zone)},
          {"outcome", f.outcome},
          {"smoke", f.smoke},
          {"errors", f.errors},
          {"reason", f.reason},
          {"approved_by", f.approved_by}};
}

namespace {

// Calls `placeholder(name)` for every {name} of `text`, `literal(text)` for the rest.
template <typename Literal, typename Placeholder>
Status Walk(std::string_view text, Literal literal, Placeholder placeholder) {
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal("{");
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal("}");
      i += 2;
    } else if (c == '{') {
      size_t end = text.find('}', i);
      if (end == std::string_view::npos) {
        return InvalidArgument("unclosed '{' in a template (write '{{' for a literal brace)");
      }
      RETURN_IF_ERROR(placeholder(std::string(text.substr(i + 1, end - i - 1))));
      i = end + 1;
    } else if (c == '}') {
      return InvalidArgument("unmatched '}' in a template (write '}}' for a literal brace)");
    } else {
      literal(std::string_view(&text[i], 1));
      ++i;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> RenderTemplateText(std::string_view text,
                                       const std::map<std::string, std::string>& values) {
  std::string out;
  RETURN_IF_ERROR(Walk(
      text, [&](std::string_view literal) { out += literal; },
      [&](const std::string& name) -> Status {
        auto it = values.find(name);
        if (it == values.end()) {
          return InvalidArgument(fmt::format("unknown placeholder {{{}}}", EscapeForDisplay(name)));
        }
        out += it->second;
        return Status::Ok();
      }));
  return out;
}

Status CheckTemplateText(const std::string& name, std::string_view text) {
  const auto& templates = MessageTemplatePlaceholders();
  auto it = templates.find(name);
  if (it == templates.end()) {
    std::vector<std::string> names;
    for (const auto& [known, placeholders] : templates) names.push_back(known);
    return InvalidArgument(fmt::format("unknown message template '{}' (known: {})",
                                       EscapeForDisplay(name), Join(names, ", ")));
  }
  const std::vector<std::string>& known = it->second;
  return Walk(
      text, [](std::string_view) {},
      [&](const std::string& placeholder) -> Status {
        if (std::find(known.begin(), known.end(), placeholder) != known.end()) {
          return Status::Ok();
        }
        return InvalidArgument(fmt::format("unknown placeholder {{{}}} in template {} (known: {})",
                                           EscapeForDisplay(placeholder), name, Join(known, ", ")));
      });
}

Message ApplyTemplateOverride(const Config& config, Message message) {
  if (message.template_name.empty()) return message;
  auto it = config.message_templates.find(message.template_name);
  if (it == config.message_templates.end()) return message;
  // The configuration was checked when loaded; a text that still fails keeps the built-in one.
  if (it->second.subject) {
    if (Result<std::string> subject = RenderTemplateText(*it->second.subject, message.values);
        subject.ok()) {
      message.subject = *subject;
    }
  }
  if (it->second.body) {
    if (Result<std::string> body = RenderTemplateText(*it->second.body, message.values);
        body.ok()) {
      message.body = *body;
    }
  }
  return message;
}

}  // namespace rollgate
