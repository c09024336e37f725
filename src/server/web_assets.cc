#include "server/web_assets.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace rollgate::server {

namespace {

// Headers of every dashboard answer: no script, style, frame or image from anywhere but this
// server; no MIME sniffing; no referrer; never framed.
void AddSecurityHeaders(ApiResponse& response) {
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                                "form-action 'self'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("X-Frame-Options", "DENY");
}

ApiResponse ErrorDocument(int status, const char* code, const std::string& message) {
  ApiResponse response;
  response.status = status;
  nlohmann::json error = {{"error", {{"code", code}, {"message", message}, {"field", nullptr}}}};
  response.body = error.dump() + "\n";
  return response;
}

}  // namespace

std::optional<std::string_view> FindWebAsset(std::string_view path) {
  for (size_t i = 0; i < kWebAssetCount; ++i) {
    if (kWebAssetTable[i].path == path) return kWebAssetTable[i].bytes;
  }
  return std::nullopt;
}

std::string_view ContentTypeFor(std::string_view path) {
  struct Type {
    std::string_view extension, content_type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& type : kTypes) {
    if (path.size() > type.extension.size() && path.ends_with(type.extension)) {
      return type.content_type;
    }
  }
  return "application/octet-stream";
}

bool IsWebPath(std::string_view path) {
  return path == "/" || path == "/ui" || path.starts_with("/ui/");
}

ApiResponse ServeWebAsset(const ApiRequest& request) {
  ApiResponse response;
  if (request.method != "GET" && request.method != "HEAD") {
    response = ErrorDocument(405, "METHOD_NOT_ALLOWED",
                             fmt::format("the dashboard does not accept {}; it accepts GET, HEAD",
                                         EscapeForDisplay(request.method)));
    response.headers.emplace_back("Allow", "GET, HEAD");
  } else if (request.path == "/" || request.path == "/ui") {
    response.status = 301;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "the dashboard is at /ui/\n";
    response.headers.emplace_back("Location", "/ui/");
  } else {
    std::string_view file = std::string_view(request.path).substr(4);  // after "/ui/"
    if (file.empty()) file = "index.html";
    std::optional<std::string_view> bytes = FindWebAsset(file);
    if (!bytes) {
      response = ErrorDocument(404, "NOT_FOUND",
                               fmt::format("no dashboard file {}", EscapeForDisplay(request.path)));
    } else {
      response.content_type = std::string(ContentTypeFor(file));
      response.body = std::string(*bytes);
    }
  }
  AddSecurityHeaders(response);
  response.route = "/ui/";
  return response;
}

}  // namespace rollgate::server
