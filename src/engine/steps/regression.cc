// "regression" (§3.2 step 8: the regression suite, ≥ 95 % pass rate required): runs the suite's
// command on the host, then reads its JUnit XML report through the transport and judges the pass
// rate here (engine/steps/junit.h), not by the command's exit status.
//
// Params:
//   command        (required) a shell command line, run by `sh -c` on the host with standard
//                  input from /dev/null; it sees ROLLGATE_ROOT (the host root prefix $R).
//   results        (required) the JUnit XML file on the host, or a directory whose *.xml files
//                  (not its subdirectories) are the report. Only files written since the command
//                  started count, so a stale report from an earlier run never passes the gate.
//   min_pass_rate  (optional, default 95, at most 100) the gate, in percent.
//   workdir        (optional) a host directory; the command runs there ("$R$workdir").
//
// pass_rate = (tests - failures - errors - skipped) / (tests - skipped) * 100, 0 when no test ran.
// Output: the command's output (and fact started: the epoch second the report must be newer
// than), a summary line, then facts: command_exit_code, tests, failures,
// errors, skipped, pass_rate (one decimal), failed_cases (the first 5 failing "class.name", comma
// separated; absent when none failed).
// Exit: 0 when pass_rate >= min_pass_rate; 1 when below; 2 when workdir is missing or the report
// is missing, stale, malformed, or larger than 8 MiB in total.
//
// Two commands run on the host: the suite (with the step's exit-status file), then one that prints
// the report files (exit-status file "<step>.results.status"). The suite's script leaves exit
// status 1 ("not judged") or 2 in the exit-status file: a run interrupted after the suite ended
// counts as failed and is run again, never as passed. The probe says "not in place" for the same
// reason.
#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "common/strings.h"
#include "engine/steps/junit.h"
#include "engine/steps/script_step.h"
#include "engine/steps/steps.h"

namespace rollgate {

namespace {

constexpr size_t kMaxReportBytes = size_t{8} * 1024 * 1024;
constexpr size_t kMaxFailedCases = 5;
constexpr std::string_view kFileTag = "rollgate-junit ";

// Prints every report file written since ROLLGATE_RESULTS_SINCE (epoch seconds) as
// "rollgate-junit SIZE NAME\n" + its bytes + "\n".
constexpr std::string_view kFetchScript = R"sh(set -u
R=""
if [ -n "${RG_ROOT_ENV:-}" ]; then R=$(printenv "$RG_ROOT_ENV" || true); fi
p="$R$RG_RESULTS"
since="@$ROLLGATE_RESULTS_SINCE"
if [ -d "$p" ]; then
  files=$(find "$p" -maxdepth 1 -type f -name '*.xml' -newermt "$since" | LC_ALL=C sort)
  [ -n "$files" ] || { echo "error: no *.xml file in $RG_RESULTS written by this run's command" >&2; exit 2; }
elif [ -f "$p" ]; then
  [ -n "$(find "$p" -newermt "$since")" ] || { echo "error: $RG_RESULTS was not written by this run's command (stale report)" >&2; exit 2; }
  files=$p
else
  echo "error: no report at $RG_RESULTS" >&2; exit 2
fi
set -f
IFS='
'
total=0
for f in $files; do
  size=$(wc -c <"$f") || exit 2
  total=$((total + size))
done
if [ "$total" -gt "$ROLLGATE_RESULTS_LIMIT" ]; then
  echo "error: the report in $RG_RESULTS has $total bytes, more than $ROLLGATE_RESULTS_LIMIT" >&2; exit 2
fi
for f in $files; do
  printf 'rollgate-junit %s %s\n' "$(wc -c <"$f")" "${f##*/}"
  cat "$f"
  printf '\n'
done
)sh";

class RegressionStep final : public ScriptStep {
 public:
  std::string_view name() const override { return "regression"; }

  Result<CommandResult> Run(const StepRequest& request) const override {
    ASSIGN_OR_RETURN(CommandResult suite, ScriptStep::Run(request));
    std::map<std::string, std::string> suite_facts = ParseFacts(suite.output_tail);
    if (suite.timed_out || suite.connection_lost || suite.exit_code != 1 ||
        !suite_facts.contains("started") || !suite_facts.contains("command_exit_code")) {
      return suite;  // not run, cut off, or an input problem (exit 2): as it is
    }
    CommandSpec fetch;
    fetch.argv = {"sh", "-c", std::string(kFetchScript), "rollgate-step"};
    fetch.timeout = Seconds(120);
    fetch.env = request.env;
    for (const auto& [name, value] : request.spec.env) fetch.env[name] = value;
    for (const auto& [name, value] : request.spec.params) fetch.env[ParamVariable(name)] = value;
    fetch.env["ROLLGATE_RESULTS_SINCE"] = suite_facts["started"];
    fetch.env["ROLLGATE_RESULTS_LIMIT"] = std::to_string(kMaxReportBytes);
    fetch.status_file = CompanionStatusFile(request.status_file, "results");
    fetch.output_limit = kMaxReportBytes + size_t{64} * 1024;
    ASSIGN_OR_RETURN(CommandResult report, request.transport.Run(request.host, fetch));

    CommandResult result;
    result.elapsed = suite.elapsed + report.elapsed;
    if (report.timed_out || report.connection_lost) {
      result.timed_out = report.timed_out;
      result.connection_lost = report.connection_lost;
      result.output_tail = Tail(suite.output_tail, request.output_limit);
      return result;
    }
    std::string judgement;
    if (report.exit_code != 0) {
      result.exit_code = 2;
      judgement = "error: cannot read the report: " + std::string(Trim(report.output_tail)) + "\n";
    } else if (report.output_truncated) {
      result.exit_code = 2;
      judgement = "error: the report changed while it was read (it grew past the limit)\n";
    } else {
      Result<JUnitSummary> summary = ParseReport(report.output_tail);
      if (!summary.ok()) {
        result.exit_code = 2;
        judgement = "error: " + summary.error().message() + "\n";
      } else {
        judgement = Judge(*summary, MinPassRate(request.spec), suite_facts["command_exit_code"],
                          &result.exit_code);
      }
    }
    if (result.exit_code == 2) {
      judgement +=
          fmt::format("rollgate-fact command_exit_code {}\n", suite_facts["command_exit_code"]);
    }
    size_t room =
        request.output_limit > judgement.size() ? request.output_limit - judgement.size() : 0;
    result.output_truncated = suite.output_truncated || suite.output_tail.size() > room;
    result.output_tail = Tail(suite.output_tail, room) + judgement;
    return result;
  }

 protected:
  std::vector<ParamRule> Rules() const override {
    return {{"command", ParamKind::kCommand, true},
            {"results", ParamKind::kPath, true},
            {"min_pass_rate", ParamKind::kNumber, false},
            {"workdir", ParamKind::kPath, false}};
  }

  Status ValidateMore(const StepSpec& spec) const override {
    if (MinPassRate(spec) > 100) {
      return InvalidArgument(fmt::format("param \"min_pass_rate\": must be at most 100 (got '{}')",
                                         EscapeForDisplay(spec.params.at("min_pass_rate"))));
    }
    return Status::Ok();
  }

  // Runs the suite. Exit 1 ("not judged yet") once it ran, whatever its own status; 2 for a
  // missing workdir. "started" is one second early: reports written in the same second count.
  std::string_view Script() const override {
    return R"sh(ROLLGATE_ROOT=$R; export ROLLGATE_ROOT
if [ -n "${RG_WORKDIR:-}" ]; then
  cd "$R$RG_WORKDIR" 2>/dev/null || { echo "error: no directory $RG_WORKDIR on the host" >&2; exit 2; }
fi
started=$(($(date +%s) - 1))
sh -c "$RG_COMMAND" </dev/null 2>&1
code=$?
fact started "$started"
fact command_exit_code "$code"
exit 1
)sh";
  }

  std::string_view ProbeScript() const override { return "exit 1\n"; }

 private:
  static double MinPassRate(const StepSpec& spec) {
    auto it = spec.params.find("min_pass_rate");
    if (it == spec.params.end()) return 95;
    double value = 95;
    std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
    return value;
  }

  // The last `size` bytes of `text`, from a line start when one is near.
  static std::string Tail(const std::string& text, size_t size) {
    if (text.size() <= size) return text;
    std::string_view tail = std::string_view(text).substr(text.size() - size);
    size_t newline = tail.find('\n');
    if (newline != std::string_view::npos && newline < 200) tail.remove_prefix(newline + 1);
    return std::string(tail);
  }

  // Splits the fetch output into its files and sums their summaries.
  static Result<JUnitSummary> ParseReport(std::string_view output) {
    JUnitSummary total;
    while (!output.empty()) {
      size_t end_of_header = output.find('\n');
      if (!StartsWith(output, kFileTag) || end_of_header == std::string_view::npos) {
        return InvalidArgument("the report changed while it was read");
      }
      std::string_view header = output.substr(kFileTag.size(), end_of_header - kFileTag.size());
      size_t space = header.find(' ');
      std::string_view name = space == std::string_view::npos ? "" : header.substr(space + 1);
      size_t size = 0;
      auto [end, error] = std::from_chars(header.data(), header.data() + header.size(), size);
      output.remove_prefix(end_of_header + 1);
      if (error != std::errc() || end != header.data() + space || output.size() < size + 1 ||
          output[size] != '\n') {
        return InvalidArgument("the report changed while it was read");
      }
      Result<JUnitSummary> summary = ParseJUnit(output.substr(0, size));
      if (!summary.ok()) {
        return summary.error().WithContext(fmt::format("report {}", EscapeForDisplay(name)));
      }
      total.Add(*summary);
      output.remove_prefix(size + 1);
    }
    return total;
  }

  static std::string OneLine(std::string_view text, size_t limit) {
    std::string out;
    for (char c : text.substr(0, limit)) {
      out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    }
    return out;
  }

  static std::string Judge(const JUnitSummary& summary, double min_pass_rate,
                           const std::string& command_exit_code, int* exit_code) {
    double rate = summary.PassRate();
    // Compare the figure that is shown, so "95.0 % of 95" never fails by rounding.
    double shown = std::round(rate * 10) / 10;
    bool passed = shown >= min_pass_rate;
    *exit_code = passed ? 0 : 1;
    std::vector<std::string> failed;
    for (size_t i = 0; i < summary.failed_cases.size() && i < kMaxFailedCases; ++i) {
      failed.push_back(OneLine(summary.failed_cases[i], 120));
    }
    std::string out = fmt::format(
        "{}: pass rate {:.1f} % of {} tests ({} failed, {} errors, {} skipped), required {} %\n",
        passed ? "regression passed" : "error: regression failed", rate, summary.tests,
        summary.failures, summary.errors, summary.skipped, min_pass_rate);
    out += fmt::format("rollgate-fact command_exit_code {}\n", command_exit_code);
    out += fmt::format("rollgate-fact tests {}\n", summary.tests);
    out += fmt::format("rollgate-fact failures {}\n", summary.failures);
    out += fmt::format("rollgate-fact errors {}\n", summary.errors);
    out += fmt::format("rollgate-fact skipped {}\n", summary.skipped);
    out += fmt::format("rollgate-fact pass_rate {:.1f}\n", rate);
    if (!failed.empty()) out += fmt::format("rollgate-fact failed_cases {}\n", Join(failed, ", "));
    return out;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeRegressionStep() { return std::make_unique<RegressionStep>(); }

}  // namespace rollgate
