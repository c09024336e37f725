#include "cli/output.h"

#include <iostream>

#include "cli/app.h"
#include "cli/context.h"
#include "common/strings.h"

namespace rollgate::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kConflict:
      return kExitUsage;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kRefusedByGate:
    case StatusCode::kPermissionDenied:
      return kExitRefused;
    default:
      return kExitFailed;
  }
}

int ReportError(Context& ctx, const Status& status) {
  // Messages quote what the user typed; escaping here too means no message can forge a line on
  // stderr, whichever layer built it (escaping is idempotent on already escaped text).
  ctx.err() << "rollgate: " << EscapeForDisplay(status.message()) << "\n";
  if (ctx.json()) {
    PrintJson(
        ctx,
        {{"error",
          {{"code", std::string(StatusCodeName(status.code()))}, {"message", status.message()}}}});
  }
  return ExitCodeFor(status);
}

void PrintJson(Context& ctx, const nlohmann::json& document) {
  ctx.out() << document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace rollgate::cli
