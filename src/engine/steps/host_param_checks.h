// Checks of param values shared by the host, service and package step types (disk-space,
// tcp-check, http-check, service, extract-switch) and observe, beyond what ParamKind checks:
// ranges of whole numbers (the scripts do arithmetic on them), params with one value per line,
// URLs.
//
// Each returns OK when the param is absent (its default applies) and InvalidArgument naming the
// param and the offending value otherwise. Thread-safe (pure functions).
#pragma once

#include <functional>
#include <string_view>

#include "common/status.h"
#include "engine/plan.h"

namespace rollgate {

// A whole number in [min, max], written without leading zeros (a shell reads "010" as octal).
Status CheckIntegerRange(const StepSpec& spec, std::string_view param, long min, long max);

// Every non-empty line of the param satisfies `valid` (described by `what`, as in "each line must
// be <what>"), and at least one line is not empty.
Status CheckEachLine(const StepSpec& spec, std::string_view param,
                     const std::function<bool(std::string_view)>& valid, std::string_view what);

// An http:// or https:// URL with something after the scheme and no spaces or control
// characters (curl gets it with --url, so it can never be read as an option).
bool IsHttpUrl(std::string_view url);

// An absolute path with no empty, "." or ".." component and no trailing slash, not "/": the form
// whose siblings ("<path>.suffix") are in the same directory.
bool IsPlainAbsolutePath(std::string_view path);

}  // namespace rollgate
