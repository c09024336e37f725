// HTTP content coding (RFC 9110 §8.4, §12.5.3): which responses the server sends gzip-compressed,
// to which clients, and the compression itself (zlib). Browsers, curl --compressed, libcurl with
// CURLOPT_ACCEPT_ENCODING, Python's requests and Go's net/http all ask for gzip; a run document
// of a 100-host deployment is about 90 KB as JSON and about a tenth of that compressed.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rollgate::server {

// Responses smaller than this are sent as they are: compressing them saves less than it costs.
inline constexpr size_t kGzipMinBytes = 1024;

// zlib's levels: a shared (cached) body is compressed once and sent many times, any other body
// is compressed for one response.
inline constexpr int kGzipLevelShared = 6;
inline constexpr int kGzipLevelSingle = 1;

// True when an Accept-Encoding value accepts gzip: "gzip" or "x-gzip" with a qvalue above 0,
// or "*" above 0 with gzip not named. Case-insensitive; a malformed qvalue counts as 0 (refused).
bool AcceptsGzip(std::string_view accept_encoding);

// True for the media types worth compressing (text, JSON, JavaScript, SVG), by a Content-Type
// value; false for those already compressed (PNG, archives) and for event streams (each event
// must reach the client when it is written).
bool CompressibleType(std::string_view content_type);

// The gzip member (RFC 1952) of `bytes` at zlib `level` (1 fastest .. 9 smallest); nullopt only
// when zlib cannot allocate its state.
std::optional<std::string> Gzip(std::string_view bytes, int level);

// The bytes of a gzip member, or nullopt when `gzip` is not one (for tests and clients).
std::optional<std::string> Gunzip(std::string_view gzip);

}  // namespace rollgate::server
