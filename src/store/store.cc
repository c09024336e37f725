#include "store/store.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "store/sqlite/sqlite_store.h"

namespace rollgate {

namespace {

// The URL with any user-info ("user:password@") masked, so a password never reaches a message.
std::string RedactedUrl(std::string_view url) {
  std::string text(url);
  size_t scheme_end = text.find("://");
  if (scheme_end != std::string::npos) {
    size_t authority = scheme_end + 3;
    size_t at = text.find('@', authority);
    size_t slash = text.find('/', authority);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      text.replace(authority, at - authority, "***");
    }
  }
  return EscapeForDisplay(text);
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (StartsWith(url, kSqlite)) {
    std::string_view path = std::string_view(url).substr(kSqlite.size());
    if (StartsWith(path, "//")) {
      // "sqlite:///abs/path" is the URL-style spelling of "sqlite:/abs/path"; a host part
      // ("sqlite://host/...") means nothing for a local file.
      if (!StartsWith(path, "///")) {
        return InvalidArgument(fmt::format(
            "malformed store URL '{}': a SQLite store is a local file, write sqlite:/path/state.db",
            EscapeForDisplay(url)));
      }
      path.remove_prefix(2);
    }
    if (path.empty()) {
      return InvalidArgument(fmt::format(
          "malformed store URL '{}': no file path after 'sqlite:' (e.g. sqlite:/var/lib/rollgate/"
          "state.db)",
          EscapeForDisplay(url)));
    }
    if (path.find('\0') != std::string_view::npos) {
      return InvalidArgument(fmt::format("malformed store URL '{}': the path contains a NUL byte",
                                         EscapeForDisplay(url)));
    }
    return OpenSqliteStore(std::filesystem::path(std::string(path)));
  }
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    return Unavailable(fmt::format(
        "PostgreSQL store is not available in this build (store URL '{}'); use sqlite:PATH",
        RedactedUrl(url)));
  }
  return InvalidArgument(fmt::format(
      "unknown store URL '{}': expected sqlite:PATH or postgresql://...", RedactedUrl(url)));
}

}  // namespace rollgate
