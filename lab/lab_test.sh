#!/usr/bin/env bash
# Black-box checks of a running lab (label "lab"): lab.sh status, the demo service's endpoints and
# knobs, the service script, PostgreSQL, and the patch artefacts with their smoke tests.
# Expects `lab.sh up` to have run with the same ROLLGATE_LAB_DIR (the CTest fixture does that).
set -euo pipefail
LAB=${ROLLGATE_LAB_DIR:?}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then echo "ok   $what"; else echo "FAIL $what"; failures=$((failures + 1)); fi
}
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$1"; }

IFS=, read -r _ address _ http_port _ root < <(sed -n 2p "$LAB/hosts.csv")
base="http://$address:$http_port"
knobs="$root/etc/demo/knobs"
trap 'printf "fail_ratio=0\nlatency_ms=0\nhealth=ok\n" >"$knobs"' EXIT

status=$("$HERE/lab.sh" status --json)
check "status --json is JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$status"
check "status: sshd, service, health and PostgreSQL up" \
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["postgres"]["running"]; assert all(h["sshd"] and h["service"] and h["healthy"] for h in d["hosts"]); assert len(d["hosts"]) >= 3' "$status"

check "/health 200" test "$(code "$base/health")" = 200
check "/ready 200" test "$(code "$base/ready")" = 200
check "/api/orders 200" test "$(code "$base/api/orders")" = 200
check "/version is 1.0.0" grep -q '"1.0.0"' <(curl -s "$base/version")
metrics=$(curl -s "$base/metrics")
for series in demo_requests_total demo_errors_total 'demo_request_duration_seconds_bucket{le="+Inf"}' \
  demo_request_duration_seconds_count 'demo_version_info{version="1.0.0"} 1'; do
  check "/metrics has $series" grep -qF "$series" <<<"$metrics"
done

printf 'fail_ratio=0.5\nlatency_ms=0\nhealth=ok\n' >"$knobs"
codes=""
for _ in 1 2 3 4; do codes="$codes $(code "$base/api/orders")"; done
check "fail_ratio=0.5 fails every other request ($codes)" test "$(tr ' ' '\n' <<<"$codes" | grep -c 500)" = 2
printf 'fail_ratio=0\nlatency_ms=300\nhealth=fail\n' >"$knobs"
check "health=fail answers 500" test "$(code "$base/health")" = 500
check "latency_ms=300 delays answers" test "$(curl -s -o /dev/null -w '%{time_total}' "$base/ready" | cut -d. -f1,2 | tr -d .)" -ge 30
check "errors are logged" grep -q ' ERROR GET /health 500' "$root/var/log/demo/application.log"
printf 'fail_ratio=0\nlatency_ms=0\nhealth=ok\n' >"$knobs"

check "service script: status running" "$root/bin/demo-service" status
check "service script: stop" "$root/bin/demo-service" stop
check "service script: status stopped exits 3" bash -c "\"$root/bin/demo-service\" status; test \$? = 3"
check "service down: /health unreachable" bash -c "test \"\$(curl -s -m 2 -o /dev/null -w '%{http_code}' $base/health)\" = 000"
check "service script: start" "$root/bin/demo-service" start
check "service back: /health 200" test "$(code "$base/health")" = 200

# shellcheck disable=SC1091
. "$LAB/postgres.env"
check "PostgreSQL: schema_migrations has 0001_initial" \
  grep -q 0001_initial <(psql -X -tA -c 'SELECT version FROM schema_migrations')

check "patches: checksums" bash -c "cd '$LAB/patches' && sha256sum -c --quiet SHA256SUMS"
work=$(mktemp -d)
tar -xzf "$LAB/patches/demo-1.1.0.tar.gz" -C "$work"
tar -xzf "$LAB/patches/demo-1.1.1-bad.tar.gz" -C "$work"
check "good patch has its migration" test -s "$work/demo-1.1.0/migrations/0002_add_column.sql"
check "good smoke test fails while 1.0.0 runs" bash -c "! '$work/demo-1.1.0/smoke-test.sh' '$base'"
cp "$root/opt/demo/VERSION" "$work/VERSION.saved"
cp "$work/demo-1.1.0/app/VERSION" "$root/opt/demo/VERSION"
check "good smoke test passes once 1.1.0 is installed" "$work/demo-1.1.0/smoke-test.sh" "$base"
cp "$work/demo-1.1.1/app/VERSION" "$root/opt/demo/VERSION"
cp "$work/demo-1.1.1/config/knobs" "$knobs"
check "bad smoke test fails (health 500)" bash -c "! '$work/demo-1.1.1/smoke-test.sh' '$base'"
cp "$work/VERSION.saved" "$root/opt/demo/VERSION"
rm -rf "$work"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all lab checks passed"
