// HTTP probes for the enhanced-monitoring watch: one GET of a health, readiness or metrics
// endpoint, with bounded timeouts and a bounded body.
//
// A probe's failure (refused, timed out, 5xx) is data for the watch, not an error: Get always
// returns a ProbeResponse saying what happened. HttpProber is the seam tests replace with a fake
// (STYLE.md 3); CurlHttpProber is the real one (libcurl, plain http only, no redirects).
// Thread-safety: CurlHttpProber::Get may be called from several threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace rollgate {

struct ProbeResponse {
  bool ok = false;      // an answer with status 200..299 arrived in time
  int http_status = 0;  // 0 when no answer came
  double ms = 0;        // time to the full answer (or to the failure)
  std::string body;     // at most the requested number of bytes
  std::string error;    // why it failed, in words; empty when ok
};

class HttpProber {
 public:
  virtual ~HttpProber() = default;
  // GETs `url`, giving up after `timeout` in total; keeps at most `max_body` bytes of the body.
  virtual ProbeResponse Get(const std::string& url, std::chrono::milliseconds timeout,
                            size_t max_body) = 0;
};

class CurlHttpProber final : public HttpProber {
 public:
  ProbeResponse Get(const std::string& url, std::chrono::milliseconds timeout,
                    size_t max_body) override;
};

}  // namespace rollgate
