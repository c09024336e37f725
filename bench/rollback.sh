#!/usr/bin/env bash
# Rollback benchmark (issue 6 "Performance"; figures in docs/benchmarks.md): the time from a
# trigger firing to the environment restored and verified, on 3 and on 50 lab hosts, against the
# playbook's requirement of 15 minutes (§6.1).
#
#   bench/rollback.sh [BUILD_DIR]     (default: build/release if built, else build/debug)
#
# For each size N: the lab is reset (every host on demo 1.0.0, fresh databases), a configuration
# puts hosts 1..N in DEV, and demo 1.1.1 (its health endpoint answers 500; its migration 0002
# commits) is deployed there. The node health check fails on every host, the health trigger
# fires (immediate: automatic rollback), and the rollback restores the application, the
# configuration and the database, restarts the service and verifies health and the schema.
# Every line of `deploy --output json` is time-stamped as it arrives:
#   trigger  = the deployment run's run-finished event (the triggers are judged right after it)
#   restored = the rollback run's run-finished event (its health checks and database checks done)
#   service start = the rollback's restore/start step, first start to last finish: the demo
#              service's own start (it waits for its /health), reported and subtracted
#
# Environment: BENCH_SIZES ("3 50"), BENCH_ROUNDS (3; each figure is the median),
# BENCH_TRANSPORT (ssh: a ControlMaster per host, the default of `deploy`; or session: one
# streamed session per host; the automatic rollback uses the deployment's transport),
# ROLLGATE_BENCH_LAB_DIR (/tmp/rollgate-bench-rollback), ROLLGATE_BENCH_SUBNET (127.0.89, never
# the subnet of a test), BENCH_KEEP_LAB=1 to leave the lab running. Needs root for the lab's
# rollgate-lab login user.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${1:-}
if [ -z "$BUILD" ]; then
  if [ -x "$ROOT/build/release/src/cli/rollgate" ]; then BUILD=$ROOT/build/release; else BUILD=$ROOT/build/debug; fi
fi
BUILD=$(cd "$BUILD" && pwd)
RG=$BUILD/src/cli/rollgate
[ -x "$RG" ] || { echo "rollback.sh: $RG missing: cmake --build $BUILD --target rollgate rollgate-demo-service" >&2; exit 2; }
SIZES=${BENCH_SIZES:-3 50}
TRANSPORT=${BENCH_TRANSPORT:-ssh}
ROUNDS=${BENCH_ROUNDS:-3}
export ROLLGATE_LAB_DIR=${ROLLGATE_BENCH_LAB_DIR:-/tmp/rollgate-bench-rollback}
export ROLLGATE_LAB_SUBNET=${ROLLGATE_BENCH_SUBNET:-127.0.89}
export ROLLGATE_LAB_USER=rollgate-lab
export ROLLGATE_DEMO_SERVICE=$BUILD/lab/rollgate-demo-service
LAB=$ROLLGATE_LAB_DIR
WORK=$LAB/bench-rollback

log() { echo "rollback-bench: $*" >&2; }

max=0
for n in $SIZES; do [ "$n" -gt "$max" ] && max=$n; done
log "lab up $max in $LAB"
"$RG" lab up "$max" >/dev/null
cleanup() {
  if [ "${BENCH_KEEP_LAB:-0}" != 1 ]; then "$RG" lab down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
rm -rf "$WORK"
mkdir -p "$WORK"

# One round: prints "total service_start" in seconds.
round() {  # round N DIR
  local n=$1 dir=$2
  "$RG" lab reset >/dev/null 2>&1
  mkdir -p "$dir"
  "$RG" init "$dir" >/dev/null
  local hosts=() i
  local login
  login=$(sed -n 's/^LAB_LOGIN_USER=//p' "$LAB/lab.conf")
  for ((i = 1; i <= n; i++)); do hosts+=("$login@$ROLLGATE_LAB_SUBNET.$i:2222"); done
  local list
  list=$(IFS=,; echo "${hosts[*]}" | sed 's/,/, /g')
  python3 - "$dir/rollgate.yaml" "$LAB/rollgate-hosts.yaml" "$list" <<'PY'
import sys
config_path, fragment_path, hosts = sys.argv[1:4]
config = open(config_path).read().replace("allow_as: false", "allow_as: true", 1)
fragment = open(fragment_path).read()
systems = fragment[fragment.index("systems:\n") + 9:]
lines = []
for line in systems.splitlines(keepends=True):
    if line.startswith("      DEV: "):
        line = "      DEV: [" + hosts + "]\n"
    elif line.startswith("      TEST: ") or line.startswith("      PROD: "):
        continue
    lines.append(line)
at = config.index("\nsystems:\n") + 10
config = config[:at] + "".join(lines) + config[at:]
at = config.index("log_check_after:")
at = config.index("\n", at) + 1
config = config[:at] + "      observe_window: 0s\n" + config[at:]
open(config_path, "w").write(config)
PY
  (
    cd "$dir"
    export ROLLGATE_SSH_CONFIG=$LAB/ssh_config
    "$RG" validate >/dev/null
    echo "1. stop 2. install 3. start" >plan.md
    local patch cr when
    patch=$("$RG" --as heidi --output json patch add --title "demo 1.1.1" --source development-team \
      --version 1.1.1 --package "$LAB/patches/demo-1.1.1-bad.tar.gz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    cr=$("$RG" --as heidi --output json cr create --patch "$patch" --system demo --description "demo 1.1.1" \
      --implementation-plan plan.md --rollback-plan plan.md --test-plan plan.md --risk low |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    "$RG" --as heidi cr submit "$cr" >/dev/null
    "$RG" --as alice cr approve "$cr" --env DEV >/dev/null
    when=$(date -d '+1 hour' '+%Y-%m-%d %H:%M')
    "$RG" --as heidi cr schedule "$cr" --env DEV --at "$when" >/dev/null
    "$RG" --as heidi --output json deploy "$cr" --env DEV --concurrency "$n" \
      --transport "$TRANSPORT" 2>deploy.err |
      python3 -u -c 'import sys, time
for line in sys.stdin:
    print(f"{time.time():.3f} {line}", end="", flush=True)' >events.log || true
  )
  python3 - "$dir/events.log" <<'PY'
import json, sys
deploy_run = None
trigger = restored = None
start_first = start_last = None
for raw in open(sys.argv[1]):
    stamp, _, text = raw.partition(" ")
    try:
        event = json.loads(text)
    except ValueError:
        continue
    t = float(stamp)
    if event.get("event") == "run-started" and deploy_run is None:
        deploy_run = event["run"]
    if event.get("event") == "run-finished":
        if event["run"] == deploy_run:
            trigger = t
        else:
            restored = t
    if event.get("run") != deploy_run and event.get("step") == "restore/start":
        if event.get("event") == "step-started" and start_first is None:
            start_first = t
        if event.get("event") == "step-finished":
            start_last = t
    if "rollback" in event and isinstance(event["rollback"], dict):
        if event["rollback"].get("state") != "succeeded":
            sys.exit(f"the rollback did not succeed: {event['rollback']}")
if trigger is None or restored is None or start_first is None:
    sys.exit("no trigger or no rollback in " + sys.argv[1])
print(f"{restored - trigger:.2f} {start_last - start_first:.2f}")
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "transport: $TRANSPORT, rounds: $ROUNDS (medians)"
printf '%-6s %-22s %-18s %-30s %s\n' hosts "trigger->restored (s)" "service start (s)" "excluding service start (s)" "playbook limit (s)"
for n in $SIZES; do
  totals=() starts=() nets=()
  for ((r = 1; r <= ROUNDS; r++)); do
    read -r total start < <(round "$n" "$WORK/$n-$r")
    log "$n hosts, round $r: $total s, of which service start $start s"
    totals+=("$total")
    starts+=("$start")
    nets+=("$(awk -v a="$total" -v b="$start" 'BEGIN {printf "%.2f", a - b}')")
  done
  printf '%-6s %-22s %-18s %-30s %s\n' "$n" "$(printf '%s\n' "${totals[@]}" | median)" \
    "$(printf '%s\n' "${starts[@]}" | median)" "$(printf '%s\n' "${nets[@]}" | median)" 900
done
