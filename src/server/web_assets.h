// The web dashboard's files (src/web, docs/dashboard.md), compiled into the binary by
// cmake/EmbedWebAssets.cmake, and the unauthenticated routes that serve them: `/` redirects to
// `/ui/`, `/ui/` is index.html, `/ui/<file>` the file with its content type. Every answer carries
// the security headers (a Content-Security-Policy of 'self' only: no inline script or style).
// Immutable tables; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "server/api.h"

namespace rollgate::server {

// One embedded file: its path under src/web ("app.js") and its bytes.
struct WebAssetBytes {
  std::string_view path;
  std::string_view bytes;
};

// Defined by the generated source.
extern const WebAssetBytes kWebAssetTable[];
extern const size_t kWebAssetCount;

// The file at `path` under src/web, or nullopt.
std::optional<std::string_view> FindWebAsset(std::string_view path);

// The Content-Type for a file name by its extension (application/octet-stream when unknown).
std::string_view ContentTypeFor(std::string_view path);

// True for the paths the dashboard answers: "/", "/ui" and everything under "/ui/".
bool IsWebPath(std::string_view path);

// The answer to a request for a dashboard path (IsWebPath): 200 with the file, 301 from "/" and
// "/ui" to "/ui/", 404 for an unknown file, 405 for a method other than GET and HEAD. The
// response's route is "/ui/" for metrics.
ApiResponse ServeWebAsset(const ApiRequest& request);

}  // namespace rollgate::server
