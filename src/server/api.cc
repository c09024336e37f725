#include "server/api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/base64.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "domain/checklists.h"
#include "domain/cr_document.h"
#include "domain/gates.h"
#include "intake/advisory.h"
#include "server/content_coding.h"
#include "server/web_assets.h"
#include "service/calendar_service.h"
#include "service/cr_service.h"
#include "service/notification_service.h"
#include "service/page_service.h"
#include "service/patch_service.h"
#include "service/token_service.h"
#include "views/status_page.h"
#include "views/views.h"

namespace rollgate::server {

namespace {

using json = nlohmann::json;

constexpr int kDefaultPageSize = 50;

std::string Dump(const json& document) {
  return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiResponse JsonResponse(int status, const json& document) {
  ApiResponse response;
  response.status = status;
  response.body = Dump(document) + "\n";
  return response;
}

// A failure of the request itself: its status and the field at fault.
struct Fault {
  Status status;
  std::string field;
};

Fault BadField(const std::string& field, std::string message) {
  return {InvalidArgument(std::move(message)), field};
}

// The request as the handlers see it: path segments, the authenticated person, the store.
struct Call {
  const ApiRequest& request;
  std::vector<std::string> segments;  // "/api/v1/crs/CR-1" -> {"api","v1","crs","CR-1"}
  std::string actor;
  Store* store = nullptr;
};

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  for (std::string& part : Split(path, '/')) {
    if (!part.empty()) out.push_back(std::move(part));
  }
  return out;
}

// Refuses query parameters other than `allowed`, and repeated ones.
std::optional<Fault> CheckQuery(const ApiRequest& request, const std::set<std::string>& allowed) {
  for (const auto& [name, value] : request.query) {
    if (!allowed.contains(name)) {
      std::string hint = DidYouMean(name, std::vector<std::string>(allowed.begin(), allowed.end()));
      return BadField(name,
                      fmt::format("unknown query parameter '{}'{}", EscapeForDisplay(name),
                                  hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    if (request.query.count(name) > 1) {
      return BadField(name, fmt::format("query parameter '{}' is given more than once", name));
    }
  }
  return std::nullopt;
}

std::optional<std::string> Query(const ApiRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return std::nullopt;
  return it->second;
}

// An integer query parameter within [min, max], or `fallback` when absent.
Result<int> QueryInt(const ApiRequest& request, const std::string& name, int fallback, int min,
                     int max, std::string& field) {
  std::optional<std::string> text = Query(request, name);
  if (!text) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    field = name;
    return InvalidArgument(fmt::format("'{}' must be a whole number from {} to {}, got '{}'", name,
                                       min, max, EscapeForDisplay(*text)));
  }
  return value;
}

// The kinds a body field may have.
enum class FieldType { kString, kBool, kStringList };

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kBool:
      return "boolean";
    case FieldType::kStringList:
      return "list of strings";
  }
  return "value";
}

bool HasType(const json& value, FieldType type) {
  switch (type) {
    case FieldType::kString:
      return value.is_string();
    case FieldType::kBool:
      return value.is_boolean();
    case FieldType::kStringList:
      return value.is_array() &&
             std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); });
  }
  return false;
}

struct FieldSpec {
  FieldType type;
  bool required;
};

// Parses a JSON object body: only `fields`, each of its type, required ones present.
Result<json> ParseBody(const ApiRequest& request, const std::map<std::string, FieldSpec>& fields,
                       std::string& fault_field) {
  std::string_view body = request.body;
  auto content_type = request.headers.find("content-type");
  bool empty = Trim(body).empty();
  if (!empty) {
    std::string type = content_type == request.headers.end()
                           ? std::string()
                           : ToLower(Trim(Split(content_type->second, ';').front()));
    if (type != "application/json") {
      return Status(StatusCode::kInvalidArgument,
                    "the request body must be JSON (Content-Type: application/json)");
    }
  }
  if (!IsValidUtf8(body)) return InvalidArgument("the request body is not valid UTF-8");
  json document = empty ? json::object() : json::parse(body, nullptr, false);
  if (document.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!document.is_object()) return InvalidArgument("the request body must be a JSON object");
  for (const auto& [name, value] : document.items()) {
    auto spec = fields.find(name);
    if (spec == fields.end()) {
      fault_field = name;
      std::vector<std::string> known;
      known.reserve(fields.size());
      for (const auto& [known_name, unused] : fields) known.push_back(known_name);
      std::string hint = DidYouMean(name, known);
      return InvalidArgument(
          fmt::format("unknown field '{}'{}", EscapeForDisplay(name),
                      hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    if (!HasType(value, spec->second.type)) {
      fault_field = name;
      return InvalidArgument(
          fmt::format("field '{}' must be a {}", name, FieldTypeName(spec->second.type)));
    }
  }
  for (const auto& [name, spec] : fields) {
    if (spec.required && !document.contains(name)) {
      fault_field = name;
      return InvalidArgument(fmt::format("field '{}' is required", name));
    }
  }
  return document;
}

std::string StringField(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() ? std::string() : it->get<std::string>();
}

std::vector<std::string> ListField(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() ? std::vector<std::string>() : it->get<std::vector<std::string>>();
}

// `text` percent-encoded for a query string (RFC 3986 unreserved characters stay).
std::string QueryEscape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// Which part of a list a request asks for: `limit` (default kDefaultPageSize, at most
// `max_limit`) items from `offset` on.
struct PageWindow {
  int limit = kDefaultPageSize;
  int offset = 0;
};

Result<PageWindow> PageWindowOf(const ApiRequest& request, int max_limit, std::string& field) {
  PageWindow window;
  ASSIGN_OR_RETURN(window.limit, QueryInt(request, "limit", kDefaultPageSize, 1, max_limit, field));
  ASSIGN_OR_RETURN(window.offset, QueryInt(request, "offset", 0, 0, 1 << 30, field));
  return window;
}

// The request's query parameters but `except`, each as "name=value&", escaped.
std::string QueryParameters(const ApiRequest& request,
                            std::initializer_list<std::string_view> except = {}) {
  std::string query;
  for (const auto& [name, value] : request.query) {
    if (std::find(except.begin(), except.end(), name) != except.end()) continue;
    query += fmt::format("{}={}&", QueryEscape(name), QueryEscape(value));
  }
  return query;
}

// One page of `items`, with where the next one is.
json Paginated(json items, PageWindow window, const ApiRequest& request) {
  const int limit = window.limit, offset = window.offset;
  int total = static_cast<int>(items.size());
  json page = json::array();
  for (int i = offset; i < total && i < offset + limit; ++i) {
    page.push_back(std::move(items[static_cast<size_t>(i)]));
  }
  json next = nullptr;
  if (offset + limit < total) {
    next = fmt::format("{}?{}limit={}&offset={}", request.path,
                       QueryParameters(request, {"offset", "limit"}), limit, offset + limit);
  }
  return {{"items", std::move(page)},
          {"total", total},
          {"limit", limit},
          {"offset", offset},
          {"next", next}};
}

// The run as `run show --output json` shows it: its steps and what fired a rollback; `revision`
// is the run's revision in the same read (Transaction::GetRunRevision).
Result<json> RunDocument(Store& store, const std::string& id, int64_t& revision) {
  json document;
  Status read = store.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(revision, tx.GetRunRevision(id));
    ASSIGN_OR_RETURN(Run run, tx.GetRun(id));
    ASSIGN_OR_RETURN(std::vector<StepExecution> steps, tx.ListStepExecutions(id));
    document = RunJson(run, steps);
    std::vector<Evidence> evidence;
    if (!run.change_request.empty()) {
      Result<ChangeRequest> cr = tx.GetChangeRequest(run.change_request);
      if (cr.ok()) evidence = std::move(cr->evidence);
    }
    document["triggers"] = RunTriggersJson(run.id, evidence);
    return Status::Ok();
  });
  if (!read.ok()) return read;
  return document;
}

// What the help-desk status page needs from the store (views/status_page.h).
Result<HelpDeskInput> LoadHelpDeskInput(Store& store, const Config& config) {
  HelpDeskInput input;
  Status read = store.Read([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(input.runs, tx.ListRuns(std::nullopt));
    // The CRs of the runs still going: their planned end is the "until" of the sentence.
    for (const RunSummary& run : input.runs) {
      if (run.change_request.empty() || input.crs.contains(run.change_request)) continue;
      if (IsFinal(run.state) && run.state != RunState::kPausedForPerson) continue;
      Result<ChangeRequest> cr = tx.GetChangeRequest(run.change_request);
      if (cr.ok()) input.crs.emplace(run.change_request, std::move(*cr));
    }
    ASSIGN_OR_RETURN(input.scheduled, ListScheduledChanges(tx, config));
    return Status::Ok();
  });
  if (!read.ok()) return read;
  return input;
}

// A minisign signature given as text in a request, as the file PatchService reads: removed when
// this goes out of scope.
class SignatureFile {
 public:
  ~SignatureFile() {
    if (!path_.empty()) std::filesystem::remove(path_, ec_);
  }
  Result<std::filesystem::path> Write(const std::string& text) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "rollgate-signature-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) return Unavailable("cannot create a temporary file for the signature");
    path_ = pattern;
    FILE* file = ::fdopen(fd, "wb");
    bool written = file != nullptr && std::fwrite(text.data(), 1, text.size(), file) == text.size();
    if (file != nullptr) written = (std::fclose(file) == 0) && written;
    if (!written) return Unavailable("cannot write the signature to a temporary file");
    return path_;
  }

 private:
  std::filesystem::path path_;
  std::error_code ec_;
};

// The fields of a CR as the API takes them (POST /api/v1/crs).
const std::map<std::string, FieldSpec>& CrCreateFields() {
  static const std::map<std::string, FieldSpec> fields = {
      {"patch", {FieldType::kString, true}},
      {"system", {FieldType::kString, true}},
      {"affected_systems", {FieldType::kStringList, false}},
      {"type", {FieldType::kString, false}},
      {"description", {FieldType::kString, false}},
      {"implementation_plan", {FieldType::kString, false}},
      {"rollback_plan", {FieldType::kString, false}},
      {"risk", {FieldType::kString, false}},
      {"test_plan", {FieldType::kString, false}},
      {"downtime", {FieldType::kString, false}},
      {"duration", {FieldType::kString, false}},
      {"rollback_complexity", {FieldType::kString, false}}};
  return fields;
}

}  // namespace

const std::string* SharedBody::Gzipped() const {
  std::call_once(gzip_once_, [this] { gzip_ = Gzip(text_, kGzipLevelShared); });
  return gzip_ ? &*gzip_ : nullptr;
}

std::string EtagOf(const std::string& body) { return "\"" + Sha256Hex(body).substr(0, 32) + "\""; }

int Api::HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
    case StatusCode::kRefusedByGate:
      return 409;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

ApiResponse Api::Error(const Status& status, const std::string& field) {
  json error = {{"code", std::string(StatusCodeName(status.code()))},
                {"message", status.message()},
                {"field", field.empty() ? json(nullptr) : json(field)}};
  return JsonResponse(HttpStatusFor(status.code()), {{"error", error}});
}

ApiResponse Api::Handle(const ApiRequest& request) const {
  auto started = clock_.Monotonic();
  ApiResponse response;
  try {
    response = Dispatch(request);
  } catch (const std::exception& e) {
    response = Error(Internal(fmt::format("unexpected error: {}", e.what())));
    response.route = "unmatched";
  }
  if (response.route.empty()) response.route = "unmatched";
  // Conditional GET: the same representation as the client holds needs no body.
  if (request.method == "GET" && response.status == 200) {
    std::string etag = response.etag.empty() ? EtagOf(response.Text()) : response.etag;
    response.headers.emplace_back("ETag", etag);
    auto match = request.headers.find("if-none-match");
    if (match != request.headers.end()) {
      for (const std::string& candidate : Split(match->second, ',')) {
        std::string_view c = Trim(candidate);
        if (c == etag || c == "*" || c == "W/" + etag) {
          // The client's validator as it holds it: weak for a compressed copy (HttpServer).
          if (c.starts_with("W/")) response.headers.back().second = std::string(c);
          response.status = 304;
          response.body.clear();
          response.shared_body.reset();
          break;
        }
      }
    }
  }
  metrics_.RecordRequest(response.route, request.method, response.status,
                         clock_.Monotonic() - started);
  return response;
}

Result<Api::Document> Api::CachedDocument(const std::optional<StoreStamp>& stamp,
                                          const std::string& key,
                                          const std::function<Result<VersionedText>()>& build,
                                          const std::function<Result<int64_t>()>& version) const {
  std::function<Result<bool>(const Document&)> still_current;
  if (version) {
    still_current = [&](const Document& kept) -> Result<bool> {
      if (kept.version < 0) return false;
      ASSIGN_OR_RETURN(int64_t now, version());
      return now == kept.version;
    };
  }
  return documents_.Get(
      stamp, key,
      [&]() -> Result<Document> {
        ASSIGN_OR_RETURN(VersionedText built, build());
        Document document{std::make_shared<const SharedBody>(std::move(built.text)), "",
                          built.version};
        document.etag = EtagOf(document.body->text());
        return document;
      },
      still_current);
}

ApiResponse Api::Snapshot(const ApiRequest& request) const {
  try {
    return Dispatch(request);
  } catch (const std::exception& e) {
    return Error(Internal(fmt::format("unexpected error: {}", e.what())));
  }
}

ApiResponse Api::Dispatch(const ApiRequest& request) const {
  const std::string& method = request.method;
  std::vector<std::string> segments = Segments(request.path);
  auto only = [&](std::initializer_list<const char*> methods, const char* route) {
    for (const char* m : methods) {
      if (method == m) return std::optional<ApiResponse>();
    }
    std::string allow;
    for (const char* m : methods) allow += (allow.empty() ? "" : ", ") + std::string(m);
    ApiResponse response =
        JsonResponse(405, {{"error",
                            {{"code", "METHOD_NOT_ALLOWED"},
                             {"message", fmt::format("{} does not accept {}; it accepts {}", route,
                                                     EscapeForDisplay(method), allow)},
                             {"field", nullptr}}}});
    response.headers.emplace_back("Allow", allow);
    response.route = route;
    return std::optional<ApiResponse>(response);
  };
  auto routed = [](ApiResponse response, const char* route) {
    response.route = route;
    return response;
  };

  // Unauthenticated: liveness, readiness, metrics.
  if (request.path == "/health") {
    if (auto refused = only({"GET"}, "/health")) return *refused;
    return routed(JsonResponse(200, {{"status", "ok"}}), "/health");
  }
  if (request.path == "/ready") {
    if (auto refused = only({"GET"}, "/ready")) return *refused;
    Result<Store*> store = store_();
    Status ready = store.ok()
                       ? (*store)->Read([](Transaction& tx) { return tx.ListRuns(1).status(); })
                       : store.status();
    if (!ready.ok()) {
      return routed(JsonResponse(503, {{"ready", false}, {"reason", ready.message()}}), "/ready");
    }
    return routed(JsonResponse(200, {{"ready", true}}), "/ready");
  }
  if (request.path == "/metrics") {
    if (auto refused = only({"GET"}, "/metrics")) return *refused;
    ApiResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics_.Render();
    Result<Store*> store = store_();
    if (store.ok()) {
      std::map<std::string, int> by_state;
      for (RunState state : {RunState::kPending, RunState::kRunning, RunState::kSucceeded,
                             RunState::kFailed, RunState::kCancelled}) {
        by_state[std::string(RunStateName(state))] = 0;
      }
      Histogram steps;
      std::map<std::string, int64_t> notifications;
      Status read = (*store)->Read([&](Transaction& tx) -> Status {
        // The notification queue: its depth (pending) and what failed for good.
        for (NotificationState state :
             {NotificationState::kPending, NotificationState::kSent, NotificationState::kFailed}) {
          ASSIGN_OR_RETURN(notifications[std::string(NotificationStateName(state))],
                           tx.CountNotifications(state));
        }
        ASSIGN_OR_RETURN(std::vector<RunSummary> runs, tx.ListRuns(std::nullopt));
        for (const RunSummary& run : runs) ++by_state[std::string(RunStateName(run.state))];
        // Step durations of the latest runs (the newest 100: the store lists newest first),
        // finished steps only.
        for (size_t i = 0; i < std::min<size_t>(runs.size(), 100); ++i) {
          ASSIGN_OR_RETURN(std::vector<StepExecution> executions,
                           tx.ListStepExecutions(runs[i].id));
          for (const StepExecution& e : executions) {
            if (e.started_at && e.finished_at) {
              steps.Observe(std::chrono::duration<double>(*e.finished_at - *e.started_at).count());
            }
          }
        }
        return Status::Ok();
      });
      if (read.ok()) {
        response.body +=
            "# HELP rollgate_runs Runs in the store, by state.\n# TYPE rollgate_runs gauge\n";
        for (const auto& [state, count] : by_state) {
          response.body += fmt::format("rollgate_runs{{state=\"{}\"}} {}\n", state, count);
        }
        response.body +=
            "# HELP rollgate_step_duration_seconds Duration of the steps of the latest 100 runs.\n"
            "# TYPE rollgate_step_duration_seconds histogram\n";
        steps.Render("rollgate_step_duration_seconds", "", response.body);
        response.body +=
            "# HELP rollgate_notifications Notifications in the durable queue, by state (pending: "
            "not yet delivered; failed: given up after their attempts).\n"
            "# TYPE rollgate_notifications gauge\n";
        for (const auto& [state, count] : notifications) {
          response.body += fmt::format("rollgate_notifications{{state=\"{}\"}} {}\n", state, count);
        }
      }
      response.body += fmt::format(
          "# HELP rollgate_store_up Whether the store could be read for this scrape.\n"
          "# TYPE rollgate_store_up gauge\nrollgate_store_up {}\n",
          read.ok() ? 1 : 0);
    }
    response.route = "/metrics";
    return response;
  }

  // The web dashboard (server/web_assets.h): static files, no token.
  if (IsWebPath(request.path)) return ServeWebAsset(request);

  if (segments.size() < 2 || segments[0] != "api" || segments[1] != "v1") {
    return routed(Error(NotFound(fmt::format("no route {} (the API is under /api/v1/)",
                                             EscapeForDisplay(request.path)))),
                  "unmatched");
  }

  // Authentication: the token decides who acts.
  Result<Store*> store_result = store_();
  if (!store_result.ok()) return routed(Error(store_result.status()), "unmatched");
  Store& store = **store_result;
  // Taken once, before anything of this request is read: what the caches hold under it is at
  // least as new.
  const std::optional<StoreStamp> stamp = store.ChangeStamp();
  auto authorization = request.headers.find("authorization");
  std::string secret;
  if (authorization != request.headers.end()) {
    std::string_view value = Trim(authorization->second);
    if (value.size() > 7 && ToLower(value.substr(0, 7)) == "bearer ") {
      secret = std::string(Trim(value.substr(7)));
    }
  }
  auto unauthenticated = [&](const std::string& message) {
    ApiResponse response = JsonResponse(
        401, {{"error", {{"code", "UNAUTHENTICATED"}, {"message", message}, {"field", nullptr}}}});
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"rollgate\"");
    response.route = "unmatched";
    return response;
  };
  if (secret.empty()) {
    return unauthenticated(
        "this route needs 'Authorization: Bearer <token>' (rollgate token "
        "create)");
  }
  TokenService tokens(config_, store, clock_);
  Result<ApiToken> token = tokens.Authenticate(secret, [&](const std::string& hash) {
    return tokens_.Get(stamp, hash, [&] { return tokens.FindByHash(hash); });
  });
  if (!token.ok()) {
    if (token.status().code() == StatusCode::kPermissionDenied) {
      return unauthenticated(token.status().message());
    }
    return routed(Error(token.status()), "unmatched");
  }
  const std::string& actor = token->person;
  const Person* person = config_.FindPerson(actor);
  bool read_only = true;
  for (const std::string& role : person->roles) {
    auto& ro = config_.server.read_only_roles;
    if (std::find(ro.begin(), ro.end(), role) == ro.end()) read_only = false;
  }

  const size_t n = segments.size();
  auto fault = [&](const Fault& f, const char* route) {
    return routed(Error(f.status, f.field), route);
  };
  auto result_error = [&](const Status& status, const std::string& field, const char* route) {
    return routed(Error(status, field), route);
  };
  CrService crs(config_, store, clock_, zone_);

  // An action (a POST): refused for read-only people before anything is parsed. The parsed body
  // in `body`, or the response that refuses the request.
  auto act = [&](const char* route, const std::map<std::string, FieldSpec>& fields,
                 json& body) -> std::optional<ApiResponse> {
    if (auto refused = only({"POST"}, route)) return refused;
    if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
    if (read_only) {
      return result_error(
          PermissionDenied(fmt::format("{} may read but not act: holds only the read-only roles {}",
                                       actor, Join(config_.server.read_only_roles, ", "))),
          "", route);
    }
    std::string field;
    Result<json> parsed = ParseBody(request, fields, field);
    if (!parsed.ok()) return result_error(parsed.status(), field, route);
    body = std::move(*parsed);
    return std::nullopt;
  };
  // A change to the record: the CR as it is afterwards.
  auto action = [&](const char* route, const std::map<std::string, FieldSpec>& fields,
                    const std::function<Result<ChangeRequest>(const json&)>& body) -> ApiResponse {
    json parsed;
    if (auto refused = act(route, fields, parsed)) return *refused;
    Result<ChangeRequest> cr = body(parsed);
    if (!cr.ok()) return result_error(cr.status(), "", route);
    const Patch* patch = nullptr;
    return routed(JsonResponse(200, CrToJson(*cr, patch, config_, clock_.Now(), zone_)), route);
  };
  // The CR document as `cr show --output json` gives it, with its patch.
  auto cr_document = [&](const ChangeRequest& cr) {
    std::optional<Patch> patch;
    (void)store.Read([&](Transaction& tx) -> Status {
      Result<Patch> p = tx.GetPatch(cr.patch_id);
      if (p.ok()) patch = std::move(*p);
      return Status::Ok();
    });
    return CrToJson(cr, patch ? &*patch : nullptr, config_, clock_.Now(), zone_);
  };
  // 201 with the new resource's address.
  auto created = [&](const json& document, const std::string& location, const char* route) {
    ApiResponse response = routed(JsonResponse(201, document), route);
    response.headers.emplace_back("Location", location);
    return response;
  };
  // Runs need the server's executor.
  auto executes = [&](const char* route) -> std::optional<ApiResponse> {
    if (runs_ != nullptr) return std::nullopt;
    return result_error(Unavailable("this server does not execute runs"), "", route);
  };
  // The run as stored, 202: what a start or a cancel answers while the run goes on.
  auto accepted = [&](const std::string& run_id, const char* route) -> ApiResponse {
    Run run;
    std::vector<StepExecution> steps;
    Status read = store.Read([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(run, tx.GetRun(run_id));
      ASSIGN_OR_RETURN(steps, tx.ListStepExecutions(run_id));
      return Status::Ok();
    });
    if (!read.ok()) return result_error(read, "", route);
    ApiResponse response = routed(JsonResponse(202, RunJson(run, steps)), route);
    response.headers.emplace_back("Location", "/api/v1/runs/" + run_id);
    return response;
  };
  auto started = [&](const Result<RunStarted>& start, const char* route) -> ApiResponse {
    if (!start.ok()) return result_error(start.status(), "", route);
    if (!start->run_id.empty()) return accepted(start->run_id, route);
    return routed(
        JsonResponse(202, {{"id", nullptr},
                           {"awaiting", start->awaiting},
                           {"message", fmt::format("{}'s authorisation is recorded; "
                                                   "the rollback also needs {}",
                                                   actor, Join(start->awaiting, " and "))}}),
        route);
  };
  PatchService patches(config_, store, clock_, packages_dir_);
  // A read that depends on the store only: rendered once per change of the store however many
  // clients poll it.
  auto answer = [&](Result<Document> document, const char* route) {
    if (!document.ok()) return result_error(document.status(), "", route);
    ApiResponse response;
    response.shared_body = std::move(document->body);
    response.etag = std::move(document->etag);
    return routed(std::move(response), route);
  };
  auto cached = [&](const std::string& key, const char* route,
                    const std::function<Result<json>()>& build) {
    return answer(CachedDocument(stamp, key,
                                 [&]() -> Result<VersionedText> {
                                   ASSIGN_OR_RETURN(json body, build());
                                   return VersionedText{JsonResponse(200, body).body};
                                 }),
                  route);
  };
  // The run as `run show --output json` shows it (GET runs/ID and its events): rendered again
  // only when the run's revision changed, not at every commit of a deployment elsewhere.
  auto run_document = [&](const std::string& id, const char* route) {
    auto build = [&]() -> Result<VersionedText> {
      int64_t revision = -1;
      ASSIGN_OR_RETURN(json body, RunDocument(store, id, revision));
      return VersionedText{JsonResponse(200, body).body, revision};
    };
    auto revision = [&]() -> Result<int64_t> {
      int64_t now = -1;
      RETURN_IF_ERROR(store.Read([&](Transaction& tx) -> Status {
        ASSIGN_OR_RETURN(now, tx.GetRunRevision(id));
        return Status::Ok();
      }));
      return now;
    };
    return answer(CachedDocument(stamp, "/api/v1/runs/" + id, build, revision), route);
  };

  // /api/v1/whoami
  if (n == 3 && segments[2] == "whoami") {
    const char* route = "/api/v1/whoami";
    if (auto refused = only({"GET"}, route)) return *refused;
    if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
    return routed(JsonResponse(200, {{"person", actor},
                                     {"full_name", person->full_name},
                                     {"roles", person->roles},
                                     {"read_only", read_only},
                                     {"token", TokenJson(*token, clock_.Now())}}),
                  route);
  }

  // /api/v1/calendar: windows, freezes, holidays and scheduled changes with their conflicts, as
  // `calendar --output json`.
  if (n == 3 && segments[2] == "calendar") {
    const char* route = "/api/v1/calendar";
    if (auto refused = only({"GET"}, route)) return *refused;
    if (auto bad = CheckQuery(request, {"from", "to", "env"})) return fault(*bad, route);
    std::string field;
    Result<CalendarRange> range =
        ResolveCalendarRange(Query(request, "from").value_or(""), Query(request, "to").value_or(""),
                             clock_.Now(), zone_, "from", "to", field);
    if (!range.ok()) return result_error(range.status(), field, route);
    std::string env = Query(request, "env").value_or("");
    if (!env.empty() && config_.FindEnvironment(env) == nullptr) {
      return result_error(
          InvalidArgument(fmt::format("no environment named '{}'", EscapeForDisplay(env))), "env",
          route);
    }
    Result<CalendarView> view =
        CalendarService(config_, store, clock_, zone_).Calendar(range->from, range->until, env);
    if (!view.ok()) return result_error(view.status(), "to", route);  // the range is refused
    return routed(JsonResponse(200, CalendarJson(view->from, view->until, view->environment,
                                                 view->entries, view->conflicts)),
                  route);
  }

  // /api/v1/status: the help-desk summary in plain words (views/status_page.h).
  if (n == 3 && segments[2] == "status") {
    const char* route = "/api/v1/status";
    if (auto refused = only({"GET"}, route)) return *refused;
    if (auto bad = CheckQuery(request, {"days"})) return fault(*bad, route);
    std::string field;
    Result<int> days = QueryInt(request, "days", 7, 1, 60, field);
    if (!days.ok()) return result_error(days.status(), field, route);
    Result<HelpDeskInput> input = LoadHelpDeskInput(store, config_);
    if (!input.ok()) return result_error(input.status(), "", route);
    input->ahead = std::chrono::hours(24 * *days);
    json document = HelpDeskStatusJson(*input, config_, clock_.Now(), zone_);
    document["days"] = *days;
    return routed(JsonResponse(200, document), route);
  }

  // /api/v1/runs/ID/events: the run document. The HTTP adapter streams it as Server-Sent Events
  // (http_server.cc), calling Snapshot again until the run is finished.
  if (n == 5 && segments[2] == "runs" && segments[4] == "events") {
    const char* route = "/api/v1/runs/{id}/events";
    if (auto refused = only({"GET"}, route)) return *refused;
    if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
    return run_document(segments[3], route);
  }

  // /api/v1/advisories: an OSV or CSAF 2.0 advisory imported as a patch (`patch import`); the
  // body is the advisory. Its security trigger is judged on every deployment at once.
  if (n == 3 && segments[2] == "advisories") {
    const char* route = "/api/v1/advisories";
    if (auto refused = only({"POST"}, route)) return *refused;
    if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
    if (read_only) {
      return result_error(
          PermissionDenied(fmt::format("{} may read but not act: holds only the read-only roles {}",
                                       actor, Join(config_.server.read_only_roles, ", "))),
          "", route);
    }
    auto content_type = request.headers.find("content-type");
    std::string type = content_type == request.headers.end()
                           ? std::string()
                           : ToLower(Trim(Split(content_type->second, ';').front()));
    if (type != "application/json") {
      return result_error(InvalidArgument("the advisory must be sent as JSON (Content-Type: "
                                          "application/json)"),
                          "", route);
    }
    if (request.body.size() > kMaxAdvisoryBytes) {
      return result_error(
          InvalidArgument(fmt::format("the advisory is larger than {} bytes", kMaxAdvisoryBytes)),
          "", route);
    }
    Result<Patch> patch = patches.Import(request.body, actor);
    if (!patch.ok()) return result_error(patch.status(), "", route);
    Result<std::vector<SecurityTriggerFiring>> firings = patches.CheckDeployments(*patch, actor);
    if (!firings.ok()) return result_error(firings.status(), "", route);
    json document = PatchJson(*patch);
    document["triggers"] = json::array();
    std::map<std::pair<std::string, std::string>, std::vector<TriggerFiring>> by_target;
    for (const SecurityTriggerFiring& f : *firings) {
      document["triggers"].push_back(
          AdvisoryFiringJson(f.change_request, f.environment, f.system, f.version, f.firing));
      by_target[{f.change_request, f.environment}].push_back(f.firing);
    }
    // What was done about them: a rollback run, or a page for a decision (no run).
    document["responses"] = json::array();
    for (const auto& [target, list] : by_target) {
      json answer = {{"change_request", target.first},
                     {"environment", target.second},
                     {"run", nullptr},
                     {"error", nullptr}};
      if (runs_ == nullptr) {
        answer["error"] =
            "this server does not execute runs: respond with rollgate decide or "
            "rollback";
      } else {
        Result<RunStarted> started =
            runs_->RespondToFirings(target.first, target.second, list, actor);
        if (started.ok() && !started->run_id.empty()) answer["run"] = started->run_id;
        if (!started.ok()) answer["error"] = started.status().message();
      }
      document["responses"].push_back(std::move(answer));
    }
    return created(document, "/api/v1/patches/" + patch->id, route);
  }

  // /api/v1/patches[/ID[/classification]]
  if (n >= 3 && segments[2] == "patches") {
    if (n == 3 && method == "POST") {
      const char* route = "/api/v1/patches";
      json body;
      if (auto refused = act(route,
                             {{"title", {FieldType::kString, true}},
                              {"source", {FieldType::kString, true}},
                              {"cves", {FieldType::kStringList, false}},
                              {"references", {FieldType::kStringList, false}},
                              {"version", {FieldType::kString, false}},
                              {"cvss_vectors", {FieldType::kStringList, false}},
                              {"exploited", {FieldType::kBool, false}},
                              {"criteria", {FieldType::kStringList, false}},
                              {"release_notes", {FieldType::kString, false}},
                              {"package_url", {FieldType::kString, false}},
                              {"package_sha256", {FieldType::kString, false}},
                              {"signature", {FieldType::kString, false}}},
                             body)) {
        return *refused;
      }
      PatchInput input;
      input.title = StringField(body, "title");
      input.source = StringField(body, "source");
      input.cves = ListField(body, "cves");
      input.references = ListField(body, "references");
      input.version = StringField(body, "version");
      input.cvss_vectors = ListField(body, "cvss_vectors");
      input.exploited = body.value("exploited", false);
      input.criteria = ListField(body, "criteria");
      input.release_notes = StringField(body, "release_notes");
      input.package = StringField(body, "package_url");
      input.package_sha256 = StringField(body, "package_sha256");
      std::string signature = StringField(body, "signature");
      // A request names a package by its URL: the server never reads a path of its own for it.
      if (!input.package.empty() && !StartsWith(input.package, "https://") &&
          !StartsWith(input.package, "http://")) {
        return result_error(InvalidArgument("'package_url' must be an https:// (or http://) URL "
                                            "the server downloads; it does not read its own "
                                            "files for a request"),
                            "package_url", route);
      }
      if (input.package.empty() && (!input.package_sha256.empty() || !signature.empty())) {
        const char* field = input.package_sha256.empty() ? "signature" : "package_sha256";
        return result_error(InvalidArgument(fmt::format("'{}' goes with 'package_url'", field)),
                            field, route);
      }
      if (!input.package.empty() && packages_dir_.empty()) {
        return result_error(Unavailable("this server keeps no packages"), "package_url", route);
      }
      if (signature.size() > 4096) {
        return result_error(InvalidArgument("'signature' is longer than a minisign signature"),
                            "signature", route);
      }
      SignatureFile signature_file;
      if (!signature.empty()) {
        Result<std::filesystem::path> path = signature_file.Write(signature);
        if (!path.ok()) return result_error(path.status(), "signature", route);
        input.signature = *path;
      }
      Result<Patch> patch = patches.Add(input, actor);
      if (!patch.ok()) return result_error(patch.status(), "", route);
      return created(PatchJson(*patch), "/api/v1/patches/" + patch->id, route);
    }
    if (n == 5 && segments[4] == "classification") {
      const char* route = "/api/v1/patches/{id}/classification";
      json body;
      if (auto refused = act(route,
                             {{"priority", {FieldType::kString, true}},
                              {"justification", {FieldType::kString, true}}},
                             body)) {
        return *refused;
      }
      Result<Priority> priority = ParsePriority(StringField(body, "priority"));
      if (!priority.ok()) return result_error(priority.status(), "priority", route);
      Result<Patch> patch =
          patches.Reclassify(segments[3], *priority, StringField(body, "justification"), actor);
      if (!patch.ok()) return result_error(patch.status(), "", route);
      return routed(JsonResponse(200, PatchJson(*patch)), route);
    }
    if (n == 3) {
      const char* route = "/api/v1/patches";
      if (auto refused = only({"GET"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {"limit", "offset"})) return fault(*bad, route);
      std::string field;
      Result<PageWindow> window = PageWindowOf(request, config_.server.max_page_size, field);
      if (!window.ok()) return result_error(window.status(), field, route);
      std::vector<Patch> patches;
      Status read = store.Read([&](Transaction& tx) -> Status {
        ASSIGN_OR_RETURN(patches, tx.ListPatches());
        return Status::Ok();
      });
      if (!read.ok()) return result_error(read, "", route);
      json items = json::array();
      for (const Patch& p : patches) items.push_back(PatchJson(p));
      return routed(JsonResponse(200, Paginated(std::move(items), *window, request)), route);
    }
    if (n == 4) {
      const char* route = "/api/v1/patches/{id}";
      if (auto refused = only({"GET"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
      Patch patch;
      Status read = store.Read([&](Transaction& tx) -> Status {
        ASSIGN_OR_RETURN(patch, tx.GetPatch(segments[3]));
        return Status::Ok();
      });
      if (!read.ok()) return result_error(read, "", route);
      return routed(JsonResponse(200, PatchJson(patch)), route);
    }
  }

  // /api/v1/crs[/ID[/gates|checklist|submit|approvals|rejections|signoffs]]
  if (n >= 3 && segments[2] == "crs") {
    if (n == 3 && method == "POST") {
      const char* route = "/api/v1/crs";
      json body;
      if (auto refused = act(route, CrCreateFields(), body)) return *refused;
      CrDraftText text{StringField(body, "system"),        StringField(body, "type"),
                       StringField(body, "description"),   StringField(body, "implementation_plan"),
                       StringField(body, "rollback_plan"), StringField(body, "risk"),
                       StringField(body, "test_plan"),     StringField(body, "downtime"),
                       StringField(body, "duration"),      StringField(body, "rollback_complexity"),
                       ListField(body, "affected_systems")};
      std::string field;
      Result<CrDraft> draft = ParseCrDraft(
          text, [](std::string_view name) { return fmt::format("field '{}'", name); }, field);
      if (!draft.ok()) return result_error(draft.status(), field, route);
      Result<ChangeRequest> cr = crs.Create(StringField(body, "patch"), *draft, actor);
      if (!cr.ok()) {
        // An unknown patch or system is named as the field at fault.
        std::string at;
        if (cr.status().code() == StatusCode::kNotFound) {
          at = config_.FindSystem(text.system) == nullptr ? "system" : "patch";
        }
        return result_error(cr.status(), at, route);
      }
      return created(cr_document(*cr), "/api/v1/crs/" + cr->id, route);
    }
    if (n == 3) {
      const char* route = "/api/v1/crs";
      if (auto refused = only({"GET", "POST"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {"limit", "offset", "state", "system"})) {
        return fault(*bad, route);
      }
      std::string field;
      Result<PageWindow> window = PageWindowOf(request, config_.server.max_page_size, field);
      if (!window.ok()) return result_error(window.status(), field, route);
      ChangeRequestFilter filter;
      if (auto state = Query(request, "state")) {
        Result<CrState> parsed = ParseCrState(*state);
        if (!parsed.ok()) return result_error(parsed.status(), "state", route);
        filter.state = *parsed;
      }
      if (auto system = Query(request, "system")) filter.system = *system;
      // The list depends on the store and the query only.
      return cached("/api/v1/crs?" + QueryParameters(request), route, [&]() -> Result<json> {
        ASSIGN_OR_RETURN(std::vector<ChangeRequestSummary> rows, crs.List(filter, false));
        json items = json::array();
        for (const ChangeRequestSummary& row : rows) items.push_back(CrSummaryJson(row));
        return Paginated(std::move(items), *window, request);
      });
    }
    const std::string& id = segments[3];
    if (n == 4) {
      const char* route = "/api/v1/crs/{id}";
      if (auto refused = only({"GET"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
      Result<ChangeRequest> cr = crs.Get(id);
      if (!cr.ok()) return result_error(cr.status(), "", route);
      return routed(JsonResponse(200, cr_document(*cr)), route);
    }
    if (n == 5 && (segments[4] == "gates" || segments[4] == "checklist")) {
      bool gates = segments[4] == "gates";
      const char* route = gates ? "/api/v1/crs/{id}/gates" : "/api/v1/crs/{id}/checklist";
      if (auto refused = only({"GET"}, route)) return *refused;
      if (auto bad = CheckQuery(request, gates ? std::set<std::string>{"environment", "emergency"}
                                               : std::set<std::string>{"environment"})) {
        return fault(*bad, route);
      }
      std::optional<std::string> env = Query(request, "environment");
      if (!env) {
        return result_error(InvalidArgument("query parameter 'environment' is required"),
                            "environment", route);
      }
      if (gates) {
        std::optional<std::string> emergency = Query(request, "emergency");
        if (emergency && *emergency != "true" && *emergency != "false") {
          return result_error(InvalidArgument("'emergency' must be true or false"), "emergency",
                              route);
        }
        Result<GateReport> report = crs.CheckGates(id, *env, emergency == "true");
        if (!report.ok()) return result_error(report.status(), "", route);
        return routed(JsonResponse(200, GateReportToJson(*report)), route);
      }
      Result<ChecklistView> view = crs.ComputeChecklist(id, *env);
      if (!view.ok()) return result_error(view.status(), "", route);
      return routed(JsonResponse(200, ChecklistToJson(view->cr, *env, view->items)), route);
    }
    if (n == 5 && segments[4] == "attachments") {
      const char* route = "/api/v1/crs/{id}/attachments";
      json body;
      if (auto refused = act(route,
                             {{"kind", {FieldType::kString, true}},
                              {"file_name", {FieldType::kString, true}},
                              {"content", {FieldType::kString, false}},
                              {"content_base64", {FieldType::kString, false}}},
                             body)) {
        return *refused;
      }
      if (body.contains("content") == body.contains("content_base64")) {
        return result_error(InvalidArgument("give the document as 'content' (text) or as "
                                            "'content_base64' (any bytes), one of them"),
                            "content", route);
      }
      std::string content = StringField(body, "content");
      if (body.contains("content_base64")) {
        std::optional<std::string> bytes = DecodeBase64(StringField(body, "content_base64"));
        if (!bytes) {
          return result_error(InvalidArgument("'content_base64' is not base64 (RFC 4648)"),
                              "content_base64", route);
        }
        content = std::move(*bytes);
      }
      Result<ChangeRequest> cr = crs.AttachContent(id, StringField(body, "kind"),
                                                   StringField(body, "file_name"), content, actor);
      if (!cr.ok()) return result_error(cr.status(), "", route);
      return created(cr_document(*cr), "/api/v1/crs/" + cr->id, route);
    }
    if (n == 5 && segments[4] == "schedule") {
      const char* route = "/api/v1/crs/{id}/schedule";
      json body;
      if (auto refused =
              act(route,
                  {{"environment", {FieldType::kString, true}}, {"at", {FieldType::kString, true}}},
                  body)) {
        return *refused;
      }
      std::string env = StringField(body, "environment");
      Result<Timestamp> at = ParseTime(StringField(body, "at"), zone_);
      if (!at.ok()) return result_error(at.status(), "at", route);
      // The change calendar: conflicts are told; an overlap refuses where the environment requires
      // a maintenance window (as `cr schedule`).
      Result<std::vector<CalendarConflict>> conflicts =
          CalendarService(config_, store, clock_, zone_).CheckSchedule(id, env, *at);
      if (!conflicts.ok()) return result_error(conflicts.status(), "", route);
      Result<ChangeRequest> cr = crs.Schedule(id, env, *at, actor);
      if (!cr.ok()) return result_error(cr.status(), "", route);
      // The §2.5 notices due now (an "immediate" environment, a late schedule) go out.
      NotificationService notifications(config_, store, clock_, zone_);
      Result<std::vector<std::string>> sent = notifications.SendDueAdvanceNotices(actor);
      if (!sent.ok()) return result_error(sent.status(), "", route);
      Result<ChangeRequest> now = crs.Get(id);
      if (!now.ok()) return result_error(now.status(), "", route);
      json document = cr_document(*now);
      document["conflicts"] = json::array();
      for (const CalendarConflict& c : *conflicts) {
        document["conflicts"].push_back(CalendarConflictToJson(c));
      }
      document["advance_notices"] = *sent;
      return routed(JsonResponse(200, document), route);
    }
    if (n == 5 && segments[4] == "decisions") {
      const char* route = "/api/v1/crs/{id}/decisions";
      json body;
      if (auto refused = act(route,
                             {{"environment", {FieldType::kString, true}},
                              {"decision", {FieldType::kString, true}},
                              {"reason", {FieldType::kString, false}}},
                             body)) {
        return *refused;
      }
      std::string decision = StringField(body, "decision");
      if (decision != "rollback" && decision != "continue") {
        return result_error(InvalidArgument(fmt::format("'decision' must be rollback or continue, "
                                                        "got '{}'",
                                                        EscapeForDisplay(decision))),
                            "decision", route);
      }
      if (auto refused = executes(route)) return *refused;
      Result<RunStarted> decided = runs_->Decide(id, StringField(body, "environment"), decision,
                                                 StringField(body, "reason"), actor);
      if (!decided.ok()) return result_error(decided.status(), "", route);
      if (!decided->run_id.empty() || !decided->awaiting.empty()) {
        return started(*decided, route);
      }
      Result<ChangeRequest> cr = crs.Get(id);
      if (!cr.ok()) return result_error(cr.status(), "", route);
      return routed(JsonResponse(200, cr_document(*cr)), route);
    }
    if (n == 5 && segments[4] == "submit") {
      return action("/api/v1/crs/{id}/submit", {},
                    [&](const json&) { return crs.Submit(id, actor); });
    }
    if (n == 5 && segments[4] == "approvals") {
      return action("/api/v1/crs/{id}/approvals", {{"environment", {FieldType::kString, true}}},
                    [&](const json& body) {
                      return crs.Approve(id, StringField(body, "environment"), actor);
                    });
    }
    if (n == 5 && segments[4] == "rejections") {
      return action(
          "/api/v1/crs/{id}/rejections",
          {{"environment", {FieldType::kString, true}}, {"reason", {FieldType::kString, true}}},
          [&](const json& body) {
            return crs.Reject(id, StringField(body, "environment"), StringField(body, "reason"),
                              actor);
          });
    }
    if (n == 5 && segments[4] == "signoffs") {
      return action(
          "/api/v1/crs/{id}/signoffs",
          {{"environment", {FieldType::kString, true}}, {"kind", {FieldType::kString, true}}},
          [&](const json& body) {
            return crs.Signoff(id, StringField(body, "environment"), StringField(body, "kind"),
                               actor);
          });
    }
  }

  // /api/v1/runs[/ID]
  if (n >= 3 && segments[2] == "runs") {
    if (n == 3 && method == "POST") {
      const char* route = "/api/v1/runs";
      json body;
      if (auto refused = act(route,
                             {{"change_request", {FieldType::kString, true}},
                              {"environment", {FieldType::kString, true}},
                              {"emergency", {FieldType::kBool, false}}},
                             body)) {
        return *refused;
      }
      if (auto refused = executes(route)) return *refused;
      return started(runs_->StartDeployment(StringField(body, "change_request"),
                                            StringField(body, "environment"),
                                            body.value("emergency", false), actor),
                     route);
    }
    if (n == 5 && (segments[4] == "rollback" || segments[4] == "cancel")) {
      bool rollback = segments[4] == "rollback";
      const char* route = rollback ? "/api/v1/runs/{id}/rollback" : "/api/v1/runs/{id}/cancel";
      json body;
      std::map<std::string, FieldSpec> fields;
      if (rollback) fields = {{"reason", {FieldType::kString, true}}};
      if (auto refused = act(route, fields, body)) return *refused;
      if (auto refused = executes(route)) return *refused;
      Run run;
      Status read = store.Read([&](Transaction& tx) -> Status {
        ASSIGN_OR_RETURN(run, tx.GetRun(segments[3]));
        return Status::Ok();
      });
      if (!read.ok()) return result_error(read, "", route);
      if (!rollback) {
        Status cancel = runs_->Cancel(run.id, actor);
        if (!cancel.ok()) return result_error(cancel, "", route);
        return accepted(run.id, route);
      }
      if (run.change_request.empty()) {
        return result_error(
            InvalidArgument(fmt::format("{} deploys no change request: there is nothing to roll "
                                        "back through Rollgate",
                                        run.id)),
            "", route);
      }
      return started(runs_->StartRollback(run.change_request, run.environment,
                                          StringField(body, "reason"), actor),
                     route);
    }
    if (n == 3) {
      const char* route = "/api/v1/runs";
      if (auto refused = only({"GET", "POST"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {"limit", "offset"})) return fault(*bad, route);
      std::string field;
      Result<PageWindow> window = PageWindowOf(request, config_.server.max_page_size, field);
      if (!window.ok()) return result_error(window.status(), field, route);
      std::vector<RunSummary> runs;
      Status read = store.Read([&](Transaction& tx) -> Status {
        ASSIGN_OR_RETURN(runs, tx.ListRuns(std::nullopt));
        return Status::Ok();
      });
      if (!read.ok()) return result_error(read, "", route);
      json items = json::array();
      for (auto it = runs.begin(); it != runs.end(); ++it) {  // the store lists newest first
        items.push_back({{"id", it->id},
                         {"change_request", it->change_request},
                         {"environment", it->environment},
                         {"system", it->system},
                         {"state", std::string(RunStateName(it->state))},
                         {"created", FormatRfc3339Utc(it->created_at)},
                         {"finished", JsonTime(it->finished_at)}});
      }
      return routed(JsonResponse(200, Paginated(std::move(items), *window, request)), route);
    }
    if (n == 4) {
      const char* route = "/api/v1/runs/{id}";
      if (auto refused = only({"GET"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
      return run_document(segments[3], route);
    }
  }

  // /api/v1/pages[/ID[/ack]]: on-call pages (§9), as `rollgate page`. Escalation is the server's
  // timer's; reading a page changes nothing.
  if (n >= 3 && segments[2] == "pages") {
    // Notifications need no package: the page service is given no packages directory.
    PageService pages(config_, store, clock_, zone_, std::filesystem::path());
    if (n == 3 && method == "POST") {
      const char* route = "/api/v1/pages";
      json body;
      if (auto refused = act(route,
                             {{"path", {FieldType::kString, true}},
                              {"subject", {FieldType::kString, true}},
                              {"message", {FieldType::kString, false}},
                              {"change_request", {FieldType::kString, false}},
                              {"environment", {FieldType::kString, false}}},
                             body)) {
        return *refused;
      }
      PageRequest page_request{StringField(body, "path"), StringField(body, "subject"),
                               StringField(body, "message"), StringField(body, "change_request"),
                               StringField(body, "environment")};
      Result<Page> opened = pages.Open(page_request, actor);
      if (!opened.ok()) return result_error(opened.status(), "", route);
      ApiResponse response = routed(JsonResponse(201, PageToJson(*opened)), route);
      response.headers.emplace_back("Location", "/api/v1/pages/" + opened->id);
      return response;
    }
    if (n == 3) {
      const char* route = "/api/v1/pages";
      if (auto refused = only({"GET", "POST"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {"limit", "offset", "open"})) return fault(*bad, route);
      std::string field;
      Result<PageWindow> window = PageWindowOf(request, config_.server.max_page_size, field);
      if (!window.ok()) return result_error(window.status(), field, route);
      std::optional<std::string> open = Query(request, "open");
      if (open && *open != "true" && *open != "false") {
        return result_error(InvalidArgument("'open' must be true or false"), "open", route);
      }
      Result<std::vector<Page>> listed = pages.List(open && *open == "true");
      if (!listed.ok()) return result_error(listed.status(), "", route);
      json items = json::array();
      for (const Page& page : *listed) items.push_back(PageToJson(page));
      return routed(JsonResponse(200, Paginated(std::move(items), *window, request)), route);
    }
    if (n == 4) {
      const char* route = "/api/v1/pages/{id}";
      if (auto refused = only({"GET"}, route)) return *refused;
      if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
      Result<Page> page = pages.Get(segments[3]);
      if (!page.ok()) return result_error(page.status(), "", route);
      return routed(JsonResponse(200, PageToJson(*page)), route);
    }
    if (n == 5 && segments[4] == "ack") {
      const char* route = "/api/v1/pages/{id}/ack";
      json body;
      if (auto refused = act(route, {}, body)) return *refused;
      Result<Page> page = pages.Acknowledge(segments[3], actor);
      if (!page.ok()) return result_error(page.status(), "", route);
      return routed(JsonResponse(200, PageToJson(*page)), route);
    }
  }

  // /api/v1/audit
  if (n == 3 && segments[2] == "audit") {
    const char* route = "/api/v1/audit";
    if (auto refused = only({"GET"}, route)) return *refused;
    if (auto bad = CheckQuery(request, {"limit", "offset", "object"})) return fault(*bad, route);
    std::string field;
    Result<PageWindow> window = PageWindowOf(request, config_.server.max_page_size, field);
    if (!window.ok()) return result_error(window.status(), field, route);
    json items = json::array();
    if (auto object = Query(request, "object")) {
      Result<std::vector<AuditEvent>> events = store.AuditEventsFor(*object);
      if (!events.ok()) return result_error(events.status(), "", route);
      for (const AuditEvent& e : *events) items.push_back(AuditEventJson(e));
    } else {
      Status read = store.ForEachAuditEvent([&](const AuditEvent& e) -> Status {
        items.push_back(AuditEventJson(e));
        return Status::Ok();
      });
      if (!read.ok()) return result_error(read, "", route);
    }
    return routed(JsonResponse(200, Paginated(std::move(items), *window, request)), route);
  }

  // /api/v1/tokens: the caller's own tokens (all of them for a token admin).
  if (n == 3 && segments[2] == "tokens") {
    const char* route = "/api/v1/tokens";
    if (auto refused = only({"GET"}, route)) return *refused;
    if (auto bad = CheckQuery(request, {})) return fault(*bad, route);
    Result<std::vector<ApiToken>> all = tokens.List();
    if (!all.ok()) return result_error(all.status(), "", route);
    bool admin = false;
    for (const std::string& role : config_.server.token_admin_roles) {
      admin = admin || config_.PersonHasRole(actor, role);
    }
    json items = json::array();
    for (const ApiToken& t : *all) {
      if (admin || t.person == actor) items.push_back(TokenJson(t, clock_.Now()));
    }
    return routed(JsonResponse(200, {{"items", items}}), route);
  }

  return routed(Error(NotFound(fmt::format("no route {} {}", EscapeForDisplay(method),
                                           EscapeForDisplay(request.path)))),
                "unmatched");
}

}  // namespace rollgate::server
