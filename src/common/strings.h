// Small string helpers shared by every layer. Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rollgate {

std::string_view Trim(std::string_view text);
std::vector<std::string> Split(std::string_view text, char separator);
std::string Join(const std::vector<std::string>& parts, std::string_view separator);
std::string ToLower(std::string_view text);
bool StartsWith(std::string_view text, std::string_view prefix);
// Levenshtein distance, for did-you-mean suggestions.
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a likely typo, else "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);
// True when `text` is valid UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view text);
// Replaces control characters (and Unicode bidirectional overrides) with visible escapes, so a
// value can be printed in a log line or error message without forging lines.
std::string EscapeForDisplay(std::string_view text);

}  // namespace rollgate
