// What the backup, database and restore step types share: checks of their params beyond the
// ParamKind rules, and fixed pieces of shell script they start with.
//
// The script pieces only read variables (ROLLGATE_RUN, RG_DATABASE_URL, ROLLGATE_HOST_NAME); no
// value is ever pasted into them. Thread-safety: constants and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/plan.h"

namespace rollgate {

// Stops the script with exit 2 unless $ROLLGATE_RUN can be part of a file name (letters, digits,
// '.', '_', '-', not starting with '.'): backups and state files are named by it.
inline constexpr std::string_view kRunIdScript = R"sh(case "${ROLLGATE_RUN:-}" in
  '' | .* | *[!A-Za-z0-9._-]*)
    printf 'error: ROLLGATE_RUN (%s) cannot name a file\n' "${ROLLGATE_RUN:-}" >&2
    exit 2 ;;
esac
)sh";

// Defines $url: RG_DATABASE_URL with every "{host}" replaced by $ROLLGATE_HOST_NAME (by shell
// pattern operations, no sed expression built from values), and `sql ARGS...`: psql without
// ~/.psqlrc, unaligned tuples only, stopping at the first error, on $url. SQL reaches psql on
// standard input and values as psql variables (-v name=value, used as :'name' or :"name"), so
// every value is quoted by psql. The password, when needed, is the environment's PGPASSWORD
// (a secret of the step). Connections give up after PGCONNECT_TIMEOUT (10 s unless set).
inline constexpr std::string_view kPostgresScript = R"sh(expand_host() {
  rest=$1
  out=
  while :; do
    case "$rest" in
      *"{host}"*)
        out="$out${rest%%"{host}"*}${ROLLGATE_HOST_NAME:-localhost}"
        rest=${rest#*"{host}"} ;;
      *)
        out="$out$rest"
        break ;;
    esac
  done
  printf '%s' "$out"
}
url=$(expand_host "$RG_DATABASE_URL")
PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
PGAPPNAME=${PGAPPNAME:-rollgate}
export PGCONNECT_TIMEOUT PGAPPNAME
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$url" "$@"; }
)sh";

// After kPostgresScript: `schema_version` prints the database's schema version, the highest
// version (as text, bytewise) in the table named by RG_TABLE (default schema_migrations; found
// through the search path), or nothing when the table does not exist. Fails when the database
// cannot be read.
inline constexpr std::string_view kSchemaVersionScript = R"sh(schema_version() {
  sql -v tbl="${RG_TABLE:-schema_migrations}" <<'SQL'
SELECT to_regclass(quote_ident(:'tbl')) IS NOT NULL AS rollgate_has_table \gset
\if :rollgate_has_table
SELECT coalesce(max(version::text COLLATE "C"), '') FROM :"tbl";
\endif
SQL
}
)sh";

// Param `param` of `spec`, when present, is a PostgreSQL URI: postgresql:// or postgres://, no
// whitespace, quotes, backslashes or control characters, and no password (neither "user:pass@"
// nor a "password=" parameter): the password comes as the secret PGPASSWORD. InvalidArgument
// otherwise; the message never repeats a URL that holds a password.
Status ValidateDatabaseUrl(const StepSpec& spec, std::string_view param = "database_url");

// Param `param`, when present, is a SHA-256 digest: 64 hexadecimal digits.
Status ValidateSha256Param(const StepSpec& spec, std::string_view param);

// Param `param`, when present, holds one name ([A-Za-z_][A-Za-z0-9_]*) per line; blank lines and
// spaces around a name are ignored; at least one name.
Status ValidateNameLines(const StepSpec& spec, std::string_view param);

// Param `param`, when present, is a path other than "/" (a directory that can be replaced).
Status ValidateNotRoot(const StepSpec& spec, std::string_view param);

}  // namespace rollgate
