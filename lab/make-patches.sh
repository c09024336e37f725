#!/usr/bin/env bash
# Builds the lab's patch artefacts into <lab>/patches (issue 4, "The lab"):
#   demo-1.1.0.tar.gz      the good patch: new VERSION, migration 0002_add_column, a smoke test
#                          that passes against a healthy service
#   demo-1.1.1-bad.tar.gz  the bad patch: same shape, but it turns the service's health to "fail"
#                          (every /health answers 500), so its smoke test fails
#   demo-1.2.0.tar.gz      good in DEV and TEST, fails in PROD (adds config/features): its migration 0003 adds a unique
#                          constraint that PROD's data (duplicate items in demo_prod) violates
# and one patch per rollback trigger (playbook 6.1), each healthy enough to pass the steps before
# the one that measures it:
#   demo-1.3.0-errors.tar.gz    a quarter of /api/orders answers 500 (knobs fail_ratio=0.25):
#                               users-affected and availability; its smoke test leaves
#                               /api/orders out
#   demo-1.4.0-slow.tar.gz      every answer 300 ms late (knobs latency_ms=300): response-time
#   demo-1.5.0-dataloss.tar.gz  migration 0005 deletes an order: data-integrity, and a database
#                               restore on rollback
#   demo-1.6.0-smokefail.tar.gz its smoke test fails on a healthy service: smoke
#   demo-1.7.0-flaky.tar.gz     a quarter of /health and /ready answers 503 (knobs
#                               health_fail_ratio=0.25): health checks pass on a retry, the
#                               availability measured over the observation window drops
# and one patch per troubleshooting case of playbook §7 the diagnostics classify:
#   demo-1.8.0-portclash.tar.gz   the new version also holds an admin port (knobs admin_port=9099):
#                                 it will not start where another process has that port
#   demo-1.9.0-missinglib.tar.gz  ships a service binary linked against libdemo-extra.so.1, which
#                                 the hosts do not have: the dynamic loader refuses to start it
#   demo-1.10.0-badsql.tar.gz     migration 0006 has a syntax error (ALTER TABEL)
# plus SHA256SUMS. Archives are reproducible (sorted names, fixed mtime and owners).
#
# Patch layout (top directory demo-<version>/):
#   VERSION                       the version the patch installs
#   app/                          files for the app dir (<root>/opt/demo)
#   config/                       files for the config dir (<root>/etc/demo), bad patch only
#   migrations/NNNN_name.sql      forward migration, one transaction, records its version
#   migrations/NNNN_name.down.sql its reversal
#   smoke-test.sh BASE_URL        exit 0 when the service at BASE_URL is healthy at this version
#   regression.sh BASE_URL OUT    the regression suite: 25 checks, a JUnit XML report in OUT
#
# Environment: ROLLGATE_LAB_DIR (default /tmp/rollgate-lab).
set -euo pipefail
LAB=${ROLLGATE_LAB_DIR:-/tmp/rollgate-lab}
OUT="$LAB/patches"
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

make_patch() {  # make_patch VERSION ARCHIVE_NAME BAD(0|1|2|errors|flaky|slow|dataloss|smokefail|
                #                                   portclash|missinglib|badsql)
  local version=$1 name=$2 bad=$3 top="$WORK/demo-$1"
  mkdir -p "$top/app" "$top/migrations"
  echo "$version" >"$top/VERSION"
  echo "$version" >"$top/app/VERSION"
  cat >"$top/migrations/0002_add_column.sql" <<'SQL'
BEGIN;
ALTER TABLE orders ADD COLUMN priority integer NOT NULL DEFAULT 0;
INSERT INTO schema_migrations (version) VALUES ('0002_add_column');
COMMIT;
SQL
  cat >"$top/migrations/0002_add_column.down.sql" <<'SQL'
BEGIN;
ALTER TABLE orders DROP COLUMN priority;
DELETE FROM schema_migrations WHERE version = '0002_add_column';
COMMIT;
SQL
  if [ "$bad" = 2 ]; then
    # A configuration file the release adds (overlaid on the host's config directory).
    mkdir -p "$top/config"
    printf 'unique_items=on\n' >"$top/config/features"
    # Passes DEV and TEST; PROD's data (duplicate items) violates the new constraint, so the
    # migration fails there, in its transaction, leaving nothing behind.
    cat >"$top/migrations/0003_unique_item.sql" <<'SQL'
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_item_key UNIQUE (item);
INSERT INTO schema_migrations (version) VALUES ('0003_unique_item');
COMMIT;
SQL
    cat >"$top/migrations/0003_unique_item.down.sql" <<'SQL'
BEGIN;
ALTER TABLE orders DROP CONSTRAINT orders_item_key;
DELETE FROM schema_migrations WHERE version = '0003_unique_item';
COMMIT;
SQL
  fi
  if [ "$bad" = 1 ]; then
    mkdir -p "$top/config"
    printf 'fail_ratio=1\nlatency_ms=0\nhealth=fail\n' >"$top/config/knobs"
  fi
  local smoke_paths="/health /ready /api/orders" smoke_extra=""
  case "$bad" in
    errors)
      mkdir -p "$top/config"
      printf 'fail_ratio=0.25\nlatency_ms=0\nhealth=ok\n' >"$top/config/knobs"
      smoke_paths="/health /ready"
      ;;
    flaky)
      mkdir -p "$top/config"
      printf 'fail_ratio=0\nlatency_ms=0\nhealth=ok\nhealth_fail_ratio=0.25\n' >"$top/config/knobs"
      smoke_paths="/api/orders"
      ;;
    slow)
      mkdir -p "$top/config"
      printf 'fail_ratio=0\nlatency_ms=300\nhealth=ok\n' >"$top/config/knobs"
      ;;
    dataloss)
      cat >"$top/migrations/0005_archive_orders.sql" <<'SQL'
BEGIN;
DELETE FROM orders WHERE id = (SELECT min(id) FROM orders);
INSERT INTO schema_migrations (version) VALUES ('0005_archive_orders');
COMMIT;
SQL
      ;;
    smokefail)
      smoke_extra='echo "FAIL /api/orders/search answered 404"; fail=1'
      ;;
    portclash)
      mkdir -p "$top/config"
      printf 'fail_ratio=0\nlatency_ms=0\nhealth=ok\nadmin_port=9099\n' >"$top/config/knobs"
      ;;
    missinglib)
      # A service binary that needs a library no host has (built here, then left behind).
      printf 'extern "C" int demo_extra() { return 0; }\n' >"$WORK/extra.cc"
      printf 'extern "C" int demo_extra();\nint main() { return demo_extra(); }\n' >"$WORK/main.cc"
      "${CXX:-c++}" -shared -fPIC -Wl,-soname,libdemo-extra.so.1 -o "$WORK/libdemo-extra.so.1" \
        "$WORK/extra.cc"
      "${CXX:-c++}" -o "$top/app/rollgate-demo-service" "$WORK/main.cc" "$WORK/libdemo-extra.so.1"
      ;;
    badsql)
      cat >"$top/migrations/0006_add_note.sql" <<'SQL'
BEGIN;
ALTER TABEL orders ADD COLUMN note text;
INSERT INTO schema_migrations (version) VALUES ('0006_add_note');
COMMIT;
SQL
      ;;
  esac
  cat >"$top/smoke-test.sh" <<EOF
#!/bin/sh
# Smoke test for demo $version: the service answers /health, /ready and the critical endpoint,
# and runs this version. Usage: smoke-test.sh BASE_URL (e.g. http://127.0.1.1:8080)
set -u
base=\${1:?usage: smoke-test.sh BASE_URL}
fail=0
for path in $smoke_paths; do
  code=\$(curl -s -m 5 -o /dev/null -w '%{http_code}' "\$base\$path")
  if [ "\$code" != 200 ]; then echo "FAIL \$path answered \$code"; fail=1; else echo "ok   \$path"; fi
done
version=\$(curl -s -m 5 "\$base/version")
case "\$version" in
  *'"$version"'*) echo "ok   /version \$version" ;;
  *) echo "FAIL /version is \$version, expected $version"; fail=1 ;;
esac
$smoke_extra
exit \$fail
EOF
  chmod 755 "$top/smoke-test.sh"
  cat >"$top/regression.sh" <<'EOF'
#!/bin/sh
# Regression suite of the demo service: every endpoint, several times, as JUnit XML.
# Usage: regression.sh BASE_URL REPORT.xml
set -u
base=${1:?usage: regression.sh BASE_URL REPORT.xml}
report=${2:?usage: regression.sh BASE_URL REPORT.xml}
mkdir -p "$(dirname "$report")"
tests=0 failures=0 cases=""
for round in 1 2 3 4 5; do
  for path in /health /ready /version /metrics /api/orders; do
    tests=$((tests + 1))
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base$path")
    name="round${round}${path}"
    if [ "$code" = 200 ]; then
      cases="$cases<testcase classname=\"demo\" name=\"$name\"/>"
    else
      failures=$((failures + 1))
      cases="$cases<testcase classname=\"demo\" name=\"$name\"><failure message=\"HTTP $code\"/></testcase>"
    fi
  done
done
printf '<?xml version="1.0"?>\n<testsuite name="demo-regression" tests="%s" failures="%s" errors="0" skipped="0">%s</testsuite>\n' \
  "$tests" "$failures" "$cases" >"$report.tmp" && mv -f "$report.tmp" "$report"
echo "regression: $((tests - failures)) of $tests passed"
[ "$failures" = 0 ]
EOF
  chmod 755 "$top/regression.sh"
  tar -C "$WORK" --sort=name --mtime='2026-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner \
    -cf - "demo-$version" | gzip -n >"$OUT/$name.tmp"
  mv -f "$OUT/$name.tmp" "$OUT/$name"
}

make_patch 1.1.0 demo-1.1.0.tar.gz 0
make_patch 1.1.1 demo-1.1.1-bad.tar.gz 1
make_patch 1.2.0 demo-1.2.0.tar.gz 2
make_patch 1.3.0 demo-1.3.0-errors.tar.gz errors
make_patch 1.4.0 demo-1.4.0-slow.tar.gz slow
make_patch 1.5.0 demo-1.5.0-dataloss.tar.gz dataloss
make_patch 1.6.0 demo-1.6.0-smokefail.tar.gz smokefail
make_patch 1.7.0 demo-1.7.0-flaky.tar.gz flaky
make_patch 1.8.0 demo-1.8.0-portclash.tar.gz portclash
make_patch 1.9.0 demo-1.9.0-missinglib.tar.gz missinglib
make_patch 1.10.0 demo-1.10.0-badsql.tar.gz badsql
(cd "$OUT" && sha256sum demo-*.tar.gz >SHA256SUMS)
echo "lab: patches in $OUT:" >&2
cat "$OUT/SHA256SUMS" >&2
