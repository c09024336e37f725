#include "server/content_coding.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <climits>

#include "common/strings.h"

namespace rollgate::server {

namespace {

// The qvalue of one Accept-Encoding member's parameters ("q=0.5"), 1 when absent; -1 when
// malformed.
double QValue(std::string_view parameters) {
  for (const std::string& parameter : Split(parameters, ';')) {
    std::string_view p = Trim(parameter);
    if (p.empty() || (p[0] != 'q' && p[0] != 'Q')) continue;
    std::string_view rest = Trim(p.substr(1));
    if (rest.empty() || rest[0] != '=') continue;
    std::string_view value = Trim(rest.substr(1));
    double q = -1;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (error != std::errc() || end != value.data() + value.size() || q < 0 || q > 1) return -1;
    return q;
  }
  return 1;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<double> gzip, any;
  for (const std::string& member : Split(accept_encoding, ',')) {
    std::string_view m = Trim(member);
    size_t semicolon = m.find(';');
    std::string coding = ToLower(Trim(m.substr(0, semicolon)));
    double q = semicolon == std::string_view::npos ? 1 : QValue(m.substr(semicolon + 1));
    if (coding == "gzip" || coding == "x-gzip") {
      gzip = std::max(gzip.value_or(-1), q);
    } else if (coding == "*") {
      any = q;
    }
  }
  if (gzip) return *gzip > 0;
  return any && *any > 0;
}

bool CompressibleType(std::string_view content_type) {
  std::string type = ToLower(Trim(content_type.substr(0, content_type.find(';'))));
  if (type == "text/event-stream") return false;
  return type.starts_with("text/") || type == "application/json" ||
         type == "application/javascript" || type == "image/svg+xml" || type.ends_with("+json") ||
         type.ends_with("+xml");
}

std::optional<std::string> Gzip(std::string_view bytes, int level) {
  if (bytes.size() > UINT_MAX / 2) return std::nullopt;  // zlib counts in 32 bits
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate data.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(bytes.size())));
  // zlib's interface is not const-correct: it does not write to next_in.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  // The output buffer holds deflateBound bytes: one call compresses everything.
  int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return std::nullopt;
  return out;
}

std::optional<std::string> Gunzip(std::string_view gzip) {
  if (gzip.size() > UINT_MAX / 2) return std::nullopt;
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return std::nullopt;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gzip.data()));
  stream.avail_in = static_cast<uInt>(gzip.size());
  std::string out;
  char buffer[16384];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (result == Z_BUF_ERROR && stream.avail_in == 0) break;  // truncated
  }
  bool complete = result == Z_STREAM_END && stream.avail_in == 0;
  inflateEnd(&stream);
  if (!complete) return std::nullopt;
  return out;
}

}  // namespace rollgate::server
