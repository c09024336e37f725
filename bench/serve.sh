#!/usr/bin/env bash
# The API under load (issue 7, "Performance"): wrk on loopback, 64 connections, GET of a run and
# of the CR list, while a 100-host deployment runs (local transport: every step of every host is
# a real process, 10 batches of 10 hosts, 3 steps each), each without and with
# `Accept-Encoding: gzip` (BENCH_ENCODINGS). Prints requests/s, latency percentiles and the
# server's peak memory (VmHWM). Usage: bench/serve.sh [BUILD_DIR] (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
rollgate=$(realpath "$build/src/cli/rollgate")
duration=${BENCH_SECONDS:-20}
command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk >/dev/null

work=$(mktemp -d /tmp/rollgate-serve-bench.XXXXXX)
server_pid=""
run_pid=""
cleanup() {
  [ -n "$run_pid" ] && { kill "$run_pid"; pkill -P "$run_pid"; sleep 0.2; pkill -f "$work/plan.json"; } 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  # A deployment that was killed may still be ending: wait for it, so it writes nothing after rm.
  for _ in $(seq 1 50); do pgrep -f "$work/plan.json" >/dev/null || break; sleep 0.1; done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
cd "$work"
export ROLLGATE_CONFIG=$work/rollgate.yaml TZ=UTC
"$rollgate" init "$work" >/dev/null
sed -i 's/allow_as: false/allow_as: true/' rollgate.yaml
# BENCH_WORKERS=N serves with N threads (server.workers; default one per core).
[ -n "${BENCH_WORKERS:-}" ] && printf 'server:\n  workers: %s\n' "$BENCH_WORKERS" >> rollgate.yaml
# BENCH_COMMAND_NICE=N starts the deployment's commands at nice N (execution.command_nice;
# default 10, 0: at Rollgate's own priority).
[ -n "${BENCH_COMMAND_NICE:-}" ] && printf 'execution:\n  command_nice: %s\n' "$BENCH_COMMAND_NICE" >> rollgate.yaml
rg() { "$rollgate" --as heidi "$@"; }

# Twenty CRs to list, so the list is a real page.
for i in $(seq 1 20); do
  patch=$(rg --output json patch add --title "bench patch $i" --source development-team \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  rg cr create --patch "$patch" --system billing --type standard --description "bench $i" \
    >/dev/null
done
token=$(rg --output json token create --label bench \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

hosts=$(seq -s, -f "h%g" 1 100)
cat > plan.json <<JSON
{"name": "bench", "status_dir": "$work/status", "batch": "10", "concurrency": 10,
 "phases": [{"name": "rollout", "steps": [
   {"name": "stop", "idempotent": true, "argv": ["sleep", "0.3"]},
   {"name": "install", "idempotent": true, "argv": ["sleep", "0.3"]},
   {"name": "start", "idempotent": true, "argv": ["sleep", "0.3"]}]}]}
JSON

"$rollgate" serve --listen 127.0.0.1:0 --output json > serve.out 2> serve.err &
server_pid=$!
for _ in $(seq 1 100); do grep -q port serve.out 2>/dev/null && break; sleep 0.1; done
port=$(python3 -c 'import json; print(json.load(open("serve.out"))["port"])')
base=http://127.0.0.1:$port

# The deployment: started now, runs through the measurements (restarted when it finishes early).
# Each run's wall-clock seconds go to deployments.txt: what the load costs the deployment.
(while true; do
  begin=$(date +%s.%N)
  rg run exec --plan "$work/plan.json" --hosts "$hosts" --transport local >/dev/null 2>&1
  echo "$begin $(date +%s.%N)" >> deployments.txt
done) &
run_pid=$!
# Measured once RUN-1 has all its 300 step executions (about 90 KB of JSON), while the next
# runs of the deployment go on committing: every measurement reads the same document, and the
# server checks it is still current after each commit.
for _ in $(seq 1 600); do
  curl -sf -H "Authorization: Bearer $token" "$base/api/v1/runs/RUN-1" 2>/dev/null \
    | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["state"] != "succeeded")' \
    && break
  sleep 0.1
done

# BENCH_CONNECTIONS="8 16 32 64" measures the tail's dependence on the connections.
for connections in ${BENCH_CONNECTIONS:-64}; do
  echo "== rollgate serve on $base, wrk -t2 -c$connections -d${duration}s, a 100-host deployment running"
  for path in ${BENCH_PATHS:-/api/v1/runs/RUN-1 /api/v1/crs}; do
    # identity: no Accept-Encoding (wrk's default); gzip: what browsers, curl --compressed, the
    # remote CLI (libcurl), Python's requests and Go's net/http send.
    for encoding in ${BENCH_ENCODINGS:-identity gzip}; do
      accept=()
      [ "$encoding" = gzip ] && accept=(-H "Accept-Encoding: gzip")
      size=$(curl -s -o /dev/null -w '%{size_download}' "${accept[@]}" \
        -H "Authorization: Bearer $token" "$base$path")
      echo "-- GET $path, $encoding ($size bytes now)"
      wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer $token" \
        "${accept[@]}" "$base$path" \
        | grep -E "${BENCH_GREP:-Requests/sec|Latency  |  50%|  90%|  99%|requests in|Non-2xx}"
    done
  done
done
# The server's own view: how long the handler took (not the queueing before it or the socket
# write after), as upper bounds of the histogram's buckets, over every request measured above.
echo "-- server-side time to answer (rollgate_http_request_duration_seconds)"
curl -s "$base/metrics" | python3 -c '
import re, sys
buckets = {}
for line in sys.stdin:
    m = re.match(r"rollgate_http_request_duration_seconds_bucket\{route=\"([^\"]+)\",le=\"([^\"]+)\"\} (\d+)", line)
    if m:
        buckets.setdefault(m[1], []).append((float("inf") if m[2] == "+Inf" else float(m[2]), int(m[3])))
for route in ("/api/v1/runs/{id}", "/api/v1/crs"):
    rows = sorted(buckets.get(route, []))
    if not rows:
        continue
    total = rows[-1][1]
    def bound(q):
        for le, count in rows:
            if count >= q * total:
                return "<= %g ms" % (le * 1000) if le != float("inf") else "> largest bucket"
    print("   %-20s %d requests; p50 %s, p90 %s, p99 %s, p99.9 %s" % (route, total, bound(0.5), bound(0.9), bound(0.99), bound(0.999)))
    print("   %-20s %s" % ("", " ".join("%d<=%gms" % (c, le * 1000) for le, c in rows if le != float("inf"))))
'
steps=$(curl -s -H "Authorization: Bearer $token" "$base/api/v1/runs/RUN-1" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["steps"]), d["state"])')
echo "-- RUN-1 during the measurement: $steps (step executions, state)"
echo "-- server peak memory: $(grep VmHWM /proc/$server_pid/status | awk '{print $2, $3}')"
# The deployments that ran while wrk measured (the first, RUN-1, ran before; the last may be cut).
python3 - "$work/deployments.txt" <<'PY'
import os, sys
lines = open(sys.argv[1]).read().split("\n") if os.path.exists(sys.argv[1]) else []
rows = [tuple(map(float, line.split())) for line in lines if line][1:]
spans = [end - begin for begin, end in rows]
if spans:
    print("-- deployments finished during the measurements: %d, %.2f s each on average (%.2f-%.2f s);"
          " 10 batches of 3 steps of 0.3 s take 9 s" % (len(spans), sum(spans) / len(spans), min(spans), max(spans)))
PY
