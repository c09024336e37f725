// Operators' overrides of the playbook's message templates (docs/notifications.md): a template
// is named ("deployment-start", ...) and has placeholders ({cr}, {environment}, ...) whose values
// the built-in renderers record on the Message (deployment_messages.h).
//
// Pure: no I/O, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/config.h"
#include "domain/deployment_messages.h"

namespace rollgate {

// The template names an operator may override, and the placeholders each one knows.
const std::map<std::string, std::vector<std::string>>& MessageTemplatePlaceholders();

// `text` with every {name} replaced by values[name]; "{{" and "}}" are literal braces.
// InvalidArgument naming the first unknown placeholder or an unclosed brace.
Result<std::string> RenderTemplateText(std::string_view text,
                                       const std::map<std::string, std::string>& values);
// OK when `text` uses only the placeholders of template `name` (InvalidArgument naming the
// unknown template or placeholder otherwise).
Status CheckTemplateText(const std::string& name, std::string_view text);

// The placeholders every deployment and rollback message has: {cr} {system} {environment} {patch}
// {version} {run} {started} {finished} {duration} {expected_completion} {outcome} {smoke}
// {errors} {reason} {approved_by} (times as local minutes in `zone`).
std::map<std::string, std::string> DeploymentFactValues(const DeploymentFacts& facts,
                                                        const TimeZone& zone);

// `message` with the configured override of its template applied (subject and/or body), or
// unchanged when it has no template name or there is no override.
Message ApplyTemplateOverride(const Config& config, Message message);

}  // namespace rollgate
