#!/usr/bin/env bash
# Fan-out benchmarks on the loopback lab (issue 4 "Performance"; figures in docs/benchmarks.md).
# Side by side in one run, every tool with the same ssh_config (the lab's: same keys, same
# known_hosts, StrictHostKeyChecking yes), the same login user and equal concurrency:
#   (a) one command (`true`) on A hosts from cold: Rollgate vs `xargs -P A ssh`
#   (b) ten steps in sequence on B hosts: Rollgate (session transport; also its ControlMaster
#       transport) vs ten parallel-ssh calls vs an Ansible playbook of the same ten `command`
#       tasks (forks = B, pipelining, gather_facts: false) vs a plain ssh loop over one
#       ControlMaster per host (one multiplexed ssh per command)
#   (c) copy 1 MiB to C hosts: Rollgate vs scp over warm masters, and parallel-scp
#
#   bench/fanout.sh [BUILD_DIR]     (default: build/release if built, else build/debug)
#
# Environment: BENCH_HOSTS_A (100), BENCH_HOSTS_B (50), BENCH_HOSTS_C (100), BENCH_ROUNDS (3;
# each figure is the median), ROLLGATE_BENCH_LAB_DIR (/tmp/rollgate-bench-lab),
# ROLLGATE_BENCH_SUBNET (127.0.88), BENCH_KEEP_LAB=1 to leave the lab running,
# BENCH_BASELINE_DRIVER=PATH to also run another fanout_driver build (e.g. of an earlier commit)
# for (b) and (c) in the same rounds, for a before/after comparison under the same conditions.
# Needs root for apt-get (pssh, ansible-core are installed here when missing) and for the lab's
# rollgate-lab login user (a /bin/sh user: root's login shell start-up would dominate otherwise).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${1:-}
if [ -z "$BUILD" ]; then
  if [ -x "$ROOT/build/release/bench/fanout_driver" ]; then BUILD=$ROOT/build/release; else BUILD=$ROOT/build/debug; fi
fi
DRIVER=$BUILD/bench/fanout_driver
[ -x "$DRIVER" ] || { echo "fanout.sh: $DRIVER missing: cmake --build $BUILD --target fanout_driver rollgate-demo-service" >&2; exit 2; }
A=${BENCH_HOSTS_A:-100}
B=${BENCH_HOSTS_B:-50}
C=${BENCH_HOSTS_C:-100}
ROUNDS=${BENCH_ROUNDS:-3}
N=$A
[ "$B" -gt "$N" ] && N=$B
[ "$C" -gt "$N" ] && N=$C

export ROLLGATE_LAB_DIR=${ROLLGATE_BENCH_LAB_DIR:-/tmp/rollgate-bench-lab}
export ROLLGATE_LAB_SUBNET=${ROLLGATE_BENCH_SUBNET:-127.0.88}
export ROLLGATE_LAB_USER=rollgate-lab
export ROLLGATE_DEMO_SERVICE=$BUILD/lab/rollgate-demo-service
LAB=$ROLLGATE_LAB_DIR
WORK=$LAB/bench
CFG=$LAB/ssh_config
CP=$WORK/cp  # control sockets of the multiplexed baselines

log() { echo "fanout: $*" >&2; }

# Peers from Debian, installed here (never by the tests).
missing=()
command -v parallel-ssh >/dev/null || missing+=(pssh)
command -v ansible-playbook >/dev/null || missing+=(ansible-core)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

log "lab up $N in $LAB"
"$ROOT/lab/lab.sh" up "$N"
if [ "${BENCH_KEEP_LAB:-0}" != 1 ]; then trap '"$ROOT/lab/lab.sh" down' EXIT; fi
rm -rf "$WORK"
mkdir -p "$WORK" "$CP"
chmod 700 "$CP"
for ((i = 1; i <= N; i++)); do echo "host$i"; done >"$WORK/hosts.all"
hosts() { head -n "$1" "$WORK/hosts.all"; }
hosts "$A" >"$WORK/hosts.a"
hosts "$B" >"$WORK/hosts.b"
hosts "$C" >"$WORK/hosts.c"
head -c 1048576 /dev/urandom >"$WORK/payload-1MiB.bin"

STEPS=("uname -n" "id -u" "date +%s" "cat /proc/loadavg" "df -P /tmp" "ls -d /tmp" "uname -r" "nproc" "whoami" "true")

# Ansible: inventory from the lab, the same ssh_config, forks = B, pipelining on.
mkdir -p "$WORK/ansible"
{
  echo "[lab]"
  cat "$WORK/hosts.b"
  echo "[lab:vars]"
  echo "ansible_ssh_common_args='-F $CFG'"
  echo "ansible_python_interpreter=/usr/bin/python3"
} >"$WORK/ansible/inventory.ini"
cat >"$WORK/ansible/ansible.cfg" <<EOF
[defaults]
forks = $B
host_key_checking = True
gathering = explicit
retry_files_enabled = False
local_tmp = $WORK/ansible/tmp
[ssh_connection]
pipelining = True
control_path_dir = $WORK/ansible/cp
EOF
{
  echo "- hosts: lab"
  echo "  gather_facts: false"
  echo "  tasks:"
  for ((s = 0; s < ${#STEPS[@]}; s++)); do
    echo "    - name: step $((s + 1))"
    echo "      command: \"${STEPS[$s]}\""
  done
} >"$WORK/ansible/playbook.yml"

now() { echo "${EPOCHREALTIME/,/.}"; }
# measure NAME CMD...: runs CMD (output to $WORK/NAME.log), appends the wall time to NAME.times.
measure() {
  local name=$1 start end
  shift
  start=$(now)
  if ! "$@" >>"$WORK/$name.log" 2>&1; then
    log "$name failed; see $WORK/$name.log"
    tail -5 "$WORK/$name.log" >&2
    echo "nan" >>"$WORK/$name.times"
    return 0
  fi
  end=$(now)
  echo "$end - $start" | bc -l >>"$WORK/$name.times"
}
# measure_reported NAME CMD...: like measure, but records the seconds fanout_driver reports itself
# (its timed part: with --warm, the connections it opened beforehand are not counted, just as
# the masters opened before the scp run are not).
measure_reported() {
  local name=$1 seconds
  shift
  if ! "$@" >>"$WORK/$name.log" 2>&1; then
    log "$name failed; see $WORK/$name.log"
    tail -5 "$WORK/$name.log" >&2
    echo "nan" >>"$WORK/$name.times"
    return 0
  fi
  seconds=$(tail -n 1 "$WORK/$name.log" | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p')
  echo "${seconds:-nan}" >>"$WORK/$name.times"
}
median() { sort -g "$WORK/$1.times" | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)]}'; }

close_masters() {  # close_masters FILE
  xargs -P 100 -I{} ssh -F "$CFG" -o ControlPath="$CP/%C" -O exit {} <"$1" >/dev/null 2>&1 || true
}
open_masters() {  # open_masters FILE: one ControlMaster per host, kept 10 minutes
  xargs -P 100 -I{} ssh -F "$CFG" -o ControlMaster=yes -o ControlPath="$CP/%C" -o ControlPersist=600 -f -N {} <"$1"
}

# --- the runs -----------------------------------------------------------------------------------
a_xargs() { xargs -P "$A" -I{} ssh -F "$CFG" {} true <"$WORK/hosts.a"; }
a_rollgate() { "$DRIVER" --ssh-config "$CFG" --hosts "$A" --mode once; }

b_rollgate() {
  "$DRIVER" --ssh-config "$CFG" --hosts "$B" --mode steps --steps 10 \
    --status-dir "$LAB/hosts/{host}/root/var/rollgate/bench"
}
b_rollgate_ssh() {
  "$DRIVER" --ssh-config "$CFG" --hosts "$B" --mode steps --steps 10 --transport ssh \
    --status-dir "$LAB/hosts/{host}/root/var/rollgate/bench"
}
b_pssh() {
  local step
  for step in "${STEPS[@]}"; do
    parallel-ssh -h "$WORK/hosts.b" -p "$B" -t 0 -x "-F $CFG" "$step" >/dev/null || return 1
  done
}
b_ansible() {
  (cd "$WORK/ansible" && ANSIBLE_CONFIG=$WORK/ansible/ansible.cfg ansible-playbook \
    -i inventory.ini playbook.yml)
}
# One ControlMaster per host (opened by the first command), one multiplexed ssh per command.
b_multiplexed() {
  local status=0
  # shellcheck disable=SC2016
  xargs -P "$B" -I{} sh -c 'h=$1; shift; for c in "$@"; do
      ssh -F "$CFG" -o ControlMaster=auto -o ControlPath="$CP/%C" -o ControlPersist=60 "$h" "$c" || exit 1
    done' sh {} "${STEPS[@]}" <"$WORK/hosts.b" >/dev/null || status=1
  close_masters "$WORK/hosts.b"
  return $status
}
export CFG CP

c_scp_warm() {
  xargs -P "$C" -I{} scp -q -F "$CFG" -o ControlPath="$CP/%C" "$WORK/payload-1MiB.bin" \
    "{}:$LAB/hosts/{}/root/tmp/bench-scp.bin" <"$WORK/hosts.c"
}
c_pscp() {
  parallel-scp -h "$WORK/hosts.c" -p "$C" -t 0 -x "-F $CFG" "$WORK/payload-1MiB.bin" \
    /tmp/rollgate-bench-pscp.bin >/dev/null
}
c_rollgate_warm() {
  "$DRIVER" --ssh-config "$CFG" --hosts "$C" --mode copy --warm --file "$WORK/payload-1MiB.bin" \
    --remote "$LAB/hosts/{host}/root/tmp/bench-rollgate.bin"
}
b_baseline() {
  "$BENCH_BASELINE_DRIVER" --ssh-config "$CFG" --hosts "$B" --mode steps --steps 10 \
    --status-dir "$LAB/hosts/{host}/root/var/rollgate/bench"
}
c_baseline_warm() {
  "$BENCH_BASELINE_DRIVER" --ssh-config "$CFG" --hosts "$C" --mode copy --warm \
    --file "$WORK/payload-1MiB.bin" --remote "$LAB/hosts/{host}/root/tmp/bench-rollgate.bin"
}
c_rollgate_cold() {
  "$DRIVER" --ssh-config "$CFG" --hosts "$C" --mode copy --file "$WORK/payload-1MiB.bin" \
    --remote "$LAB/hosts/{host}/root/tmp/bench-rollgate.bin"
}

# Warm-up round (not measured): first-contact costs such as page cache and sshd's binaries.
a_xargs >/dev/null 2>&1 || true
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round/$ROUNDS: (a) one command on $A hosts"
  measure a_xargs a_xargs
  measure a_rollgate a_rollgate
  log "round $round/$ROUNDS: (b) ten steps on $B hosts"
  measure b_rollgate b_rollgate
  [ -z "${BENCH_BASELINE_DRIVER:-}" ] || measure b_baseline b_baseline
  measure b_rollgate_ssh b_rollgate_ssh
  measure b_multiplexed b_multiplexed
  measure b_pssh b_pssh
  measure b_ansible b_ansible
  log "round $round/$ROUNDS: (c) 1 MiB to $C hosts"
  open_masters "$WORK/hosts.c"
  measure c_scp_warm c_scp_warm
  close_masters "$WORK/hosts.c"
  measure c_pscp c_pscp
  measure_reported c_rollgate_warm c_rollgate_warm
  [ -z "${BENCH_BASELINE_DRIVER:-}" ] || measure_reported c_baseline_warm c_baseline_warm
  measure c_rollgate_cold c_rollgate_cold
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { echo "scale=2; $1 / $2" | bc -l 2>/dev/null || echo nan; }
row() { printf '| %-60s | %8.2f | %s |\n' "$1" "$2" "$3"; }
A_X=$(median a_xargs) A_R=$(median a_rollgate)
B_R=$(median b_rollgate) B_RS=$(median b_rollgate_ssh) B_M=$(median b_multiplexed)
B_P=$(median b_pssh) B_AN=$(median b_ansible)
C_S=$(median c_scp_warm) C_P=$(median c_pscp) C_RW=$(median c_rollgate_warm) C_RC=$(median c_rollgate_cold)
{
  echo "Fan-out on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), median of $ROUNDS rounds;"
  echo "load average before $LOAD_BEFORE, after $LOAD_AFTER; OpenSSH $(ssh -V 2>&1 | cut -d, -f1)"
  echo
  echo "| run | seconds | ratio |"
  echo "|---|---:|---|"
  row "(a) xargs -P$A ssh true, $A hosts, cold" "$A_X" ""
  row "(a) Rollgate session transport, $A hosts, cold" "$A_R" "$(ratio "$A_R" "$A_X")x xargs (target <= 1.1)"
  row "(b) Rollgate session transport, 10 steps x $B hosts" "$B_R" ""
  row "(b) ten parallel-ssh calls" "$B_P" "$(ratio "$B_P" "$B_R")x Rollgate (target >= 3)"
  row "(b) Ansible playbook, forks=$B, pipelining" "$B_AN" "$(ratio "$B_AN" "$B_R")x Rollgate (target >= 5)"
  row "(b) ssh over one ControlMaster per host, 1 mux ssh per step" "$B_M" "$(ratio "$B_M" "$B_R")x Rollgate"
  row "(b) Rollgate ssh transport (ControlMaster + status files)" "$B_RS" "$(ratio "$B_RS" "$B_R")x Rollgate session"
  row "(c) scp over warm masters, 1 MiB x $C hosts" "$C_S" ""
  row "(c) Rollgate session transport, warm sessions" "$C_RW" "$(ratio "$C_RW" "$C_S")x scp-warm (target <= 1.25)"
  row "(c) Rollgate session transport, cold" "$C_RC" "$(ratio "$C_RC" "$C_S")x scp-warm"
  row "(c) parallel-scp, cold" "$C_P" "$(ratio "$C_P" "$C_S")x scp-warm"
  if [ -n "${BENCH_BASELINE_DRIVER:-}" ]; then
    B_BL=$(median b_baseline) C_BL=$(median c_baseline_warm)
    row "(b) baseline driver, 10 steps x $B hosts" "$B_BL" "$(ratio "$B_P" "$B_BL")x vs parallel-ssh; $(ratio "$B_BL" "$B_R")x this build"
    row "(c) baseline driver, warm sessions" "$C_BL" "$(ratio "$C_BL" "$C_S")x scp-warm; $(ratio "$C_BL" "$C_RW")x this build"
  fi
} | tee "$WORK/results.md"
log "raw times and logs in $WORK"
