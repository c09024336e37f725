// The CLI's remote mode (docs/server.md "Remote mode"): the commands talk to `rollgate serve`
// over its HTTP API instead of opening the configuration and the store themselves. The server
// is named by --server or $ROLLGATE_SERVER; the bearer token comes from $ROLLGATE_TOKEN only (a
// token on the command line would show in `ps` and in shell history). $ROLLGATE_SERVER_CA names
// a CA bundle for a server with a private certificate.
//
// Errors the server answers ({"error":{"code","message","field"}}) become the Status of that
// code, so remote commands exit with the same codes as local ones. Thread-compatible.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rollgate::cli {

// The query parameters of a GET, in order.
using Query = std::vector<std::pair<std::string, std::string>>;

class RemoteClient {
 public:
  // `server`: "http://host:port" or "https://host:port" (a trailing "/" is fine; nothing else
  // after the port). InvalidArgument for anything else; PermissionDenied when `token` is empty.
  static Result<RemoteClient> Create(std::string server, std::string token, std::string ca_file);

  // A JSON answer of 2xx; else the server's error as a Status. Path segments given in `path`
  // must already be escaped (see Segment).
  Result<nlohmann::json> Get(const std::string& path, const Query& query = {}) const;
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body) const;

  // `text` escaped for use as one path segment ("CR-1" stays; "a/b" does not become two).
  static std::string Segment(const std::string& text);

  const std::string& server() const { return server_; }

 private:
  RemoteClient(std::string server, std::string token, std::string ca_file)
      : server_(std::move(server)), token_(std::move(token)), ca_file_(std::move(ca_file)) {}
  Result<nlohmann::json> Send(const std::string& method, const std::string& url,
                              const std::string* body) const;

  std::string server_;
  std::string token_;
  std::string ca_file_;
};

// The Status for an error document of the API (by its code; the HTTP status when the code is not
// one of ours). Pure; exposed for tests.
Status StatusFromApiError(int http_status, const nlohmann::json& document);

}  // namespace rollgate::cli
