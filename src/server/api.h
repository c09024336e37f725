// The HTTP API of `rollgate serve` (docs/server.md), independent of the HTTP library: a request
// in, a response out. The adapter (server/http_server.h) parses HTTP with Boost.Beast and calls
// Api::Handle; the fuzz target (fuzz/api_fuzz.cc) and the unit tests call it directly.
//
// Every /api/ route needs `Authorization: Bearer <token>`; the token's person is the actor of
// every action (a request never names its actor). Reads answer with an ETag and honour
// If-None-Match; lists are paginated (`limit`, `offset`) and say where the next page is. Every
// error is {"error":{"code","message","field"}} with a 4xx or 5xx status, and nothing is changed.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "domain/config.h"
#include "domain/token.h"
#include "server/metrics.h"
#include "server/run_control.h"
#include "store/store.h"

namespace rollgate::server {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded, without the query
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lowercase
  std::string body;
};

// A rendered body shared by every response that sends it (a cached document) rather than copied,
// and its gzip encoding (server/content_coding.h), made once, for the first client that asks.
class SharedBody {
 public:
  explicit SharedBody(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }
  // The text gzip-compressed; nullptr when it could not be. Thread-safe.
  const std::string* Gzipped() const;

 private:
  std::string text_;
  mutable std::once_flag gzip_once_;
  mutable std::optional<std::string> gzip_;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // The body when it is a cached document, shared rather than copied (then `body` is empty).
  std::shared_ptr<const SharedBody> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string route;  // the matched route's pattern, for metrics ("unmatched" when none)
  std::string etag;   // of the body, when already known (a cached document)

  // The body, wherever it is held.
  const std::string& Text() const { return shared_body ? shared_body->text() : body; }
};

// Where a handler finds its store: the adapter gives each worker thread its own (a Store is used
// by one thread at a time).
using StoreProvider = std::function<Result<Store*>()>;

// Values read from the store, each kept with the store's change stamp (Store::ChangeStamp) it was
// read at and read again once the store changed: many requests, one read per change. A value that
// knows a cheaper test of whether it is still current (`still_current`, such as comparing a run's
// revision) is tested instead of read again, and kept under the new stamp when it is. Bounded: it
// is emptied when full.
template <typename T>
class StampedCache {
 public:
  // `stamp` was taken before `read` or `still_current` reads (none: the store cannot say;
  // nothing is kept).
  Result<T> Get(const std::optional<StoreStamp>& stamp, const std::string& key,
                const std::function<Result<T>()>& read,
                const std::function<Result<bool>(const T&)>& still_current = nullptr) {
    std::optional<T> kept;
    if (stamp) {
      std::lock_guard lock(mutex_);
      auto it = entries_.find({stamp->connection, key});
      if (it != entries_.end() && it->second.first == *stamp) return it->second.second;
      if (it != entries_.end() && still_current) kept = it->second.second;
    }
    // Read after the stamp: the value is at least as new as the stamp it is kept under.
    if (kept) {
      Result<bool> current = still_current(*kept);
      if (current.ok() && *current) {
        Put(*stamp, key, *kept);
        return *kept;
      }
    }
    ASSIGN_OR_RETURN(T value, read());
    if (stamp) Put(*stamp, key, value);
    return value;
  }

 private:
  void Put(const StoreStamp& stamp, const std::string& key, const T& value) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_[{stamp.connection, key}] = {stamp, value};
  }

  static constexpr size_t kMaxEntries = 256;
  std::mutex mutex_;
  std::map<std::pair<uint64_t, std::string>, std::pair<StoreStamp, T>> entries_;  // by connection
};

class Api {
 public:
  // `runs` executes the runs started through the API (none: those routes answer 503).
  // `packages_dir`: where accepted patch packages are kept (none: a patch with a package is
  // refused with 503).
  Api(const Config& config, StoreProvider store, const Clock& clock, const TimeZone& zone,
      ServerMetrics& metrics, RunControl* runs = nullptr, std::filesystem::path packages_dir = {})
      : config_(config),
        store_(std::move(store)),
        clock_(clock),
        zone_(zone),
        metrics_(metrics),
        runs_(runs),
        packages_dir_(std::move(packages_dir)) {}

  // Never throws; an unexpected exception becomes a 500 with a JSON error.
  ApiResponse Handle(const ApiRequest& request) const;

  // The same answer as Handle, without recording metrics or answering If-None-Match: for the
  // adapter's repeated reads of one streamed request (the run events of http_server.cc), which
  // is authenticated again on each read.
  ApiResponse Snapshot(const ApiRequest& request) const;

  // The JSON error document and status for `status` (field: the request field at fault, or "").
  static ApiResponse Error(const Status& status, const std::string& field = "");
  // The HTTP status for a Status code: 400, 404, 409, 403, 409 (gate), 503, 504, 500.
  static int HttpStatusFor(StatusCode code);

 private:
  // A read's JSON body, its ETag, and the version of what it shows when the store can tell
  // (a run's revision; -1 when not).
  struct Document {
    std::shared_ptr<const SharedBody> body;  // shared with the cache: a hit copies no text
    std::string etag;
    int64_t version = -1;
  };
  // A body and the version it was read at (in the same read).
  struct VersionedText {
    std::string text;
    int64_t version = -1;
  };
  ApiResponse Dispatch(const ApiRequest& request) const;
  // The body `build` makes for `key` (a path), built again only when the store changed since
  // (Store::ChangeStamp) and, given `version`, only when that (a cheap read) differs from the
  // kept document's: a run polled by many clients is rendered once per change of the run.
  Result<Document> CachedDocument(const std::optional<StoreStamp>& stamp, const std::string& key,
                                  const std::function<Result<VersionedText>()>& build,
                                  const std::function<Result<int64_t>()>& version = nullptr) const;

  const Config& config_;
  StoreProvider store_;
  const Clock& clock_;
  const TimeZone& zone_;
  ServerMetrics& metrics_;
  RunControl* runs_;
  std::filesystem::path packages_dir_;
  mutable StampedCache<Document> documents_;  // by path
  // The stored tokens by their secret's hash: authenticating reads nothing while nothing changed
  // (a revocation is a change).
  mutable StampedCache<ApiToken> tokens_;
};

// The ETag of a response body: a strong validator, quoted.
std::string EtagOf(const std::string& body);

}  // namespace rollgate::server
