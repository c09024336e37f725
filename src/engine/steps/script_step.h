// The base of the playbook's step types: a fixed POSIX shell script run on the host, whose inputs
// are the step's `params` (and resolved `secrets`), handed over as environment variables.
//
// Why environment variables: a value a person typed (a directory, a URL, a table name) is never
// pasted into the script's text, so no quoting mistake can turn it into a command. The script reads
// param "app_dir" as "$RG_APP_DIR"; the transport quotes every value on the way
// (transport/shell.h), and secrets travel on standard input (CommandSpec::secret_env).
//
// Every script starts with a prelude that gives it:
//   - `set -u`, and $R: the host's root prefix. Empty on real hosts; when the step has the param
//     "root_env" (a variable name such as ROLLGATE_HOST_ROOT), the value of that variable on the
//     host, so a lab host living in a directory sees "$R/opt/demo" as its /opt/demo;
//   - fact KEY VALUE: prints "rollgate-fact KEY VALUE", a result the deploy records as evidence
//     (ParseFacts reads them back from the output tail; print them last);
//   - fail MESSAGE: prints "error: MESSAGE" to stderr and exits 1;
//   - with_host TEXT: prints TEXT with every "{host}" replaced by $ROLLGATE_HOST_NAME (URLs in
//     params name the host they run on that way).
//
// Exit status: 0 when the step's check holds or its action is done, 1 when it does not hold or the
// action failed, 2 for a problem with the inputs found on the host (missing directory ...).
//
// Thread-safety: stateless; Run and Probe may run concurrently.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/step_type.h"

namespace rollgate {

// How a param's value is checked by Validate, before anything runs.
enum class ParamKind {
  kText,      // any UTF-8 text without NUL or newline
  kPath,      // an absolute path without NUL, newline or ".." components
  kInteger,   // a whole number >= 0
  kNumber,    // a decimal number >= 0
  kUrl,       // http:// or https:// URL without spaces
  kHostPort,  // "host:port"
  kName,      // [A-Za-z_][A-Za-z0-9_]* (variable, table or column names)
  kLines,     // several values, one per line (table names, patterns, endpoints)
  kCommand,   // a shell command line from the configuration, run by `sh -c` on the host
};

struct ParamRule {
  std::string name;  // "app_dir"; its variable is RG_APP_DIR
  ParamKind kind = ParamKind::kText;
  bool required = false;
};

class ScriptStep : public StepType {
 public:
  // Checks params against Rules() (unknown, missing, malformed) and that the step has no argv,
  // script, source or destination; then ValidateMore.
  Status Validate(const StepSpec& spec) const override;
  // Runs Script() with the params as RG_* variables and the secrets resolved (see ResolveSecret).
  Result<CommandResult> Run(const StepRequest& request) const override;
  // ProbeScript() when the type has one (exit 0: in place, 1: not, else undecided); the
  // default probe (spec.probe) otherwise.
  Result<ProbeVerdict> Probe(const StepRequest& request, int* probe_exit_code) const override;

  // The script as it is sent (prelude included), for --dry-run and tests.
  std::string FullScript() const;

 protected:
  virtual std::vector<ParamRule> Rules() const = 0;
  virtual std::string_view Script() const = 0;
  virtual std::string_view ProbeScript() const { return {}; }
  virtual Status ValidateMore(const StepSpec& /*spec*/) const { return Status::Ok(); }
};

// The environment variable of a param: "app_dir" -> "RG_APP_DIR".
std::string ParamVariable(std::string_view param);

// The "rollgate-fact KEY VALUE" lines of `output`, later lines overriding earlier ones.
std::map<std::string, std::string> ParseFacts(std::string_view output);

// Reads a secret reference: "env:NAME" (this process's environment) or "file:/path" (the file's
// first line). NotFound naming the reference (never the value) when it is unset or unreadable;
// InvalidArgument for any other form.
Result<std::string> ResolveSecret(std::string_view reference);

}  // namespace rollgate
