// Fuzz target for the HTTP API's request handling (server/api.h): any request line, query,
// headers and body must give a response with a status from 200 to 599 whose body, unless it is
// /metrics or a dashboard file, is one JSON document with either the resource or
// {"error":{code,message,field}}; never a crash, a hang or an exception. Input: "METHOD PATH" on
// the first line, then "name: value" header lines, an empty line, and the body; "key=value&..."
// after a '?' in PATH is the query. The literal token TOKEN in a header stands for a valid token of
// heidi (an engineer), so that the fuzzer reaches the authenticated routes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "common/time.h"
#include "config/loader.h"
#include "config/starter.h"
#include "server/api.h"
#include "server/content_coding.h"
#include "service/token_service.h"

namespace {

struct World {
  rollgate::FixedOffsetZone zone{rollgate::Seconds(0)};
  rollgate::SystemClock clock;
  rollgate::Config config;
  std::unique_ptr<rollgate::Store> store;
  rollgate::server::ServerMetrics metrics;
  std::unique_ptr<rollgate::server::Api> api;
  std::string token;
  std::filesystem::path dir;

  ~World() {
    api.reset();
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  World() {
    rollgate::LoadResult loaded =
        rollgate::LoadConfigText(rollgate::StarterConfigYaml(), "starter.yaml", zone);
    if (!loaded.config) __builtin_trap();
    config = *loaded.config;
    // Pages and notices the fuzzer opens are delivered nowhere (the starter's channels write
    // files).
    config.channels.clear();
    dir =
        std::filesystem::temp_directory_path() / ("rollgate-api-fuzz-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    auto opened = rollgate::OpenStore("sqlite:" + (dir / "state.db").string());
    if (!opened.ok()) __builtin_trap();
    store = std::move(opened).value();
    auto created = rollgate::TokenService(config, *store, clock)
                       .Create("heidi", "fuzz", std::nullopt, "heidi");
    if (!created.ok()) __builtin_trap();
    token = created->secret;
    api = std::make_unique<rollgate::server::Api>(
        config, [this]() -> rollgate::Result<rollgate::Store*> { return store.get(); }, clock, zone,
        metrics);
  }
};

void ReplaceAll(std::string& text, std::string_view from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  rollgate::server::ApiRequest request;
  size_t line_end = input.find('\n');
  std::string_view first = input.substr(0, line_end);
  size_t space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  std::string target = space == std::string_view::npos ? "/" : std::string(first.substr(space + 1));
  size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    for (const std::string& pair : rollgate::Split(target.substr(question + 1), '&')) {
      size_t eq = pair.find('=');
      request.query.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
    }
  }
  size_t at = line_end == std::string_view::npos ? input.size() : line_end + 1;
  while (at < input.size()) {
    size_t end = input.find('\n', at);
    std::string_view line = input.substr(at, end == std::string_view::npos ? end : end - at);
    at = end == std::string_view::npos ? input.size() : end + 1;
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string value(
        rollgate::Trim(line.substr(colon == std::string_view::npos ? line.size() : colon + 1)));
    ReplaceAll(value, "TOKEN", world.token);
    request.headers[rollgate::ToLower(line.substr(0, colon))] = value;
  }
  request.body = std::string(input.substr(std::min(at, input.size())));

  rollgate::server::ApiResponse response = world.api->Handle(request);
  if (response.status < 200 || response.status > 599) __builtin_trap();
  // The adapter's content coding (server/content_coding.h): any Accept-Encoding is read without
  // harm, and a shared document's compressed copy decodes to its text.
  auto accept = request.headers.find("accept-encoding");
  if (accept != request.headers.end()) (void)rollgate::server::AcceptsGzip(accept->second);
  if (response.shared_body) {
    const std::string* gzip = response.shared_body->Gzipped();
    if (gzip == nullptr || rollgate::server::Gunzip(*gzip) != response.Text()) __builtin_trap();
  }
  if (response.status == 304 || request.path == "/metrics") return 0;
  // The dashboard's files (server/web_assets.h) and its redirect are not JSON; its errors are.
  if (response.status < 400 && response.route == "/ui/") return 0;
  nlohmann::json body = nlohmann::json::parse(response.Text(), nullptr, false);
  if (body.is_discarded()) __builtin_trap();
  if (response.status >= 400) {
    if (!body.contains("error") || !body["error"].contains("code") ||
        !body["error"]["message"].is_string() || !body["error"].contains("field")) {
      __builtin_trap();
    }
  }
  return 0;
}
