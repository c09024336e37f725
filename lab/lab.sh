#!/usr/bin/env bash
# The Rollgate lab: a fleet of N hosts on loopback, for integration tests and for people trying
# Rollgate (issue 4, "The lab").
#
#   lab/lab.sh up N        start hosts 1..N (idempotent: running parts are left alone) and build
#                          the patch artefacts (make-patches.sh) into <lab>/patches
#   lab/lab.sh down        stop exactly what `up` started (by pid files); keeps the lab directory
#   lab/lab.sh status [--json]
#   lab/lab.sh reset       put a running lab back as `up` made it: every host on demo 1.0.0 with
#                          its first configuration, no backups, services running; the databases
#                          of each environment recreated. For tests that need a known start.
#
# Each host i is an sshd on ${SUBNET}.i:${SSH_PORT} (127.0.1.i:2222 by default; if 127.0.1.x
# cannot be bound, 127.0.0.1 with ports SSH_PORT+i) with its own host key and its own root
# directory <lab>/hosts/host<i>/root, running the demo service on the same address, port
# HTTP_PORT (or HTTP_PORT+i). One PostgreSQL 15 serves the demo database. Log in with
#   ssh -F <lab>/ssh_config host1
#
# Environment:
#   ROLLGATE_LAB_DIR       lab directory (default /tmp/rollgate-lab)
#   ROLLGATE_LAB_SUBNET    first three octets of the host addresses (default 127.0.1)
#   ROLLGATE_LAB_SSH_PORT  sshd port (default 2222)
#   ROLLGATE_LAB_HTTP_PORT demo service port (default 8080)
#   ROLLGATE_LAB_PG_PORT   first PostgreSQL port tried (default 55432)
#   ROLLGATE_DEMO_SERVICE  the rollgate-demo-service binary (default: searched in build/*/lab)
#   ROLLGATE_LAB_USER      the login user on the hosts (default: root, or the invoking user when
#                          not root). `rollgate-lab` is created as a system user with /bin/sh if
#                          missing: sessions then skip root's login shell start-up files, which on
#                          some machines (pyenv in /root/.bashrc) cost seconds per ssh session.
set -euo pipefail

LAB=${ROLLGATE_LAB_DIR:-/tmp/rollgate-lab}
SUBNET=${ROLLGATE_LAB_SUBNET:-127.0.1}
SSH_PORT=${ROLLGATE_LAB_SSH_PORT:-2222}
HTTP_PORT=${ROLLGATE_LAB_HTTP_PORT:-8080}
PG_FIRST_PORT=${ROLLGATE_LAB_PG_PORT:-55432}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_BIN=${ROLLGATE_LAB_PG_BIN:-/usr/lib/postgresql/15/bin}
SSHD=${ROLLGATE_LAB_SSHD:-/usr/sbin/sshd}

die() { echo "lab: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

valid_subnet() { [[ $1 =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; }

# The addressing mode is decided once, at the first `up`, and kept in lab.conf.
load_conf() {
  if [ -f "$LAB/lab.conf" ]; then
    # shellcheck disable=SC1091
    . "$LAB/lab.conf"
  fi
}

can_bind() {  # can_bind ADDR PORT: true when a listening socket can be bound there
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))' "$1" "$2" 2>/dev/null
  else
    return 0
  fi
}

host_addr() {  # host_addr I
  if [ "$MODE" = subnet ]; then echo "$SUBNET.$1"; else echo 127.0.0.1; fi
}
host_ssh_port() {
  if [ "$MODE" = subnet ]; then echo "$SSH_PORT"; else echo $((SSH_PORT + $1)); fi
}
host_http_port() {
  if [ "$MODE" = subnet ]; then echo "$HTTP_PORT"; else echo $((HTTP_PORT + $1)); fi
}

find_demo_binary() {
  if [ -n "${ROLLGATE_DEMO_SERVICE:-}" ]; then echo "$ROLLGATE_DEMO_SERVICE"; return; fi
  local candidate
  for candidate in "$HERE"/../build/*/lab/rollgate-demo-service; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  die "rollgate-demo-service not found: build it (cmake --build build/debug --target rollgate-demo-service) or set ROLLGATE_DEMO_SERVICE"
}

port_in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

setup_client() {
  mkdir -p "$LAB/client"
  chmod 700 "$LAB/client"
  if [ ! -f "$LAB/client/id_ed25519" ]; then
    ssh-keygen -q -t ed25519 -N '' -C rollgate-lab -f "$LAB/client/id_ed25519"
  fi
  # Read by sshd as the login user, so readable by all (it holds only the public key).
  mkdir -p "$LAB/authorized"
  chmod 755 "$LAB/authorized"
  cp "$LAB/client/id_ed25519.pub" "$LAB/authorized/authorized_keys"
  chmod 644 "$LAB/authorized/authorized_keys"
}

write_service_script() {  # write_service_script I ROOT
  local i=$1 root=$2
  cat >"$root/bin/demo-service" <<EOF
#!/bin/sh
# The demo service's service manager on lab host $i ("command" service manager: start|stop|status).
root='$root'
pidfile="\$root/var/run/demo.pid"
running() { [ -f "\$pidfile" ] && kill -0 "\$(cat "\$pidfile")" 2>/dev/null; }
case "\${1:-}" in
  start)
    if running; then echo "demo running (pid \$(cat "\$pidfile"))"; exit 0; fi
    setsid "\$root/opt/demo/rollgate-demo-service" --listen '$(host_addr "$i"):$(host_http_port "$i")' \\
      --app-dir "\$root/opt/demo" --config-dir "\$root/etc/demo" \\
      --log-file "\$root/var/log/demo/application.log" \\
      </dev/null >>"\$root/var/log/demo/stdout.log" 2>&1 &
    echo \$! >"\$pidfile"
    n=0
    while [ \$n -lt 50 ]; do
      if ! running; then
        echo "demo failed to start; the end of \$root/var/log/demo/stdout.log:" >&2
        tail -n 5 "\$root/var/log/demo/stdout.log" >&2
        rm -f "\$pidfile"; exit 1
      fi
      if curl -fsS -o /dev/null 'http://$(host_addr "$i"):$(host_http_port "$i")/health' 2>/dev/null; then
        echo "demo started (pid \$(cat "\$pidfile"))"; exit 0
      fi
      n=\$((n + 1)); sleep 0.1
    done
    echo "demo started (pid \$(cat "\$pidfile")) but /health does not answer yet"; exit 0 ;;
  stop)
    if running; then
      pid=\$(cat "\$pidfile"); kill "\$pid"
      n=0; while kill -0 "\$pid" 2>/dev/null && [ \$n -lt 50 ]; do n=\$((n + 1)); sleep 0.1; done
      kill -9 "\$pid" 2>/dev/null || true
    fi
    rm -f "\$pidfile"; echo "demo stopped" ;;
  status)
    if running; then echo "demo running (pid \$(cat "\$pidfile"))"; exit 0; fi
    echo "demo stopped"; exit 3 ;;
  *) echo "usage: \$0 start|stop|status" >&2; exit 2 ;;
esac
EOF
  chmod 755 "$root/bin/demo-service"
}

setup_host() {  # setup_host I DEMO_BINARY
  local i=$1 demo=$2 dir="$LAB/hosts/host$1" root="$LAB/hosts/host$1/root"
  mkdir -p "$dir" "$root"/{bin,opt/demo,etc/demo,var/log/demo,var/run,var/backups,tmp}
  chmod 1777 "$root/tmp"  # the host's TMPDIR in ssh sessions (sshd_config below), like /tmp
  if [ ! -f "$dir/ssh_host_ed25519_key" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "rollgate-lab-host$i" -f "$dir/ssh_host_ed25519_key"
  fi
  cat >"$dir/sshd_config" <<EOF
# Lab host $i. Generated by lab/lab.sh; loopback only.
ListenAddress $(host_addr "$i"):$(host_ssh_port "$i")
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $LAB/authorized/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 200
MaxStartups 200:30:400
SetEnv ROLLGATE_HOST_ROOT=$root ROLLGATE_LAB_HOST=host$i TMPDIR=$root/tmp
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel INFO
EOF
  if [ ! -f "$root/opt/demo/VERSION" ]; then
    echo "1.0.0" >"$root/opt/demo/VERSION"
  fi
  # The binary is copied (not linked) so a patch can replace it on one host only.
  if [ ! -x "$root/opt/demo/rollgate-demo-service" ] || ! cmp -s "$demo" "$root/opt/demo/rollgate-demo-service"; then
    if ! alive "$root/var/run/demo.pid"; then
      cp "$demo" "$root/opt/demo/rollgate-demo-service.tmp"
      mv -f "$root/opt/demo/rollgate-demo-service.tmp" "$root/opt/demo/rollgate-demo-service"
    fi
  fi
  [ -f "$root/etc/demo/knobs" ] || printf 'fail_ratio=0\nlatency_ms=0\nhealth=ok\n' >"$root/etc/demo/knobs"
  cat >"$root/etc/demo/demo.conf" <<EOF
listen=$(host_addr "$i"):$(host_http_port "$i")
database=postgresql://demo@127.0.0.1:${PG_PORT:-0}/demo
EOF
  touch "$root/var/log/demo/application.log"
  write_service_script "$i" "$root"
}

start_sshd() {  # start_sshd I
  local i=$1 dir="$LAB/hosts/host$1"
  if alive "$dir/sshd.pid"; then return 0; fi
  rm -f "$dir/sshd.pid"
  "$SSHD" -f "$dir/sshd_config" -E "$dir/sshd.log" || die "sshd for host$i did not start (see $dir/sshd.log)"
  local n=0
  while ! alive "$dir/sshd.pid"; do
    n=$((n + 1))
    [ $n -gt 100 ] && die "sshd for host$i wrote no pid file (see $dir/sshd.log)"
    sleep 0.05
  done
}

write_client_config() {  # write_client_config N
  local n=$1 i
  {
    echo "# Lab client configuration. Generated by lab/lab.sh: ssh -F $LAB/ssh_config host1"
    for ((i = 1; i <= n; i++)); do
      echo "Host host$i"
      echo "  HostName $(host_addr "$i")"
      echo "  Port $(host_ssh_port "$i")"
      echo "  User $LOGIN_USER"
    done
    echo "Host *"
    echo "  IdentityFile $LAB/client/id_ed25519"
    echo "  IdentitiesOnly yes"
    echo "  UserKnownHostsFile $LAB/known_hosts"
    echo "  StrictHostKeyChecking yes"
    echo "  BatchMode yes"
    echo "  LogLevel ERROR"
  } >"$LAB/ssh_config.tmp"
  mv -f "$LAB/ssh_config.tmp" "$LAB/ssh_config"
  : >"$LAB/known_hosts.tmp"
  for ((i = 1; i <= n; i++)); do
    local key
    key=$(cut -d' ' -f1,2 "$LAB/hosts/host$i/ssh_host_ed25519_key.pub")
    if [ "$MODE" = subnet ] && [ "$(host_ssh_port "$i")" = 22 ]; then
      echo "$(host_addr "$i") $key" >>"$LAB/known_hosts.tmp"
    else
      echo "[$(host_addr "$i")]:$(host_ssh_port "$i") $key" >>"$LAB/known_hosts.tmp"
    fi
  done
  mv -f "$LAB/known_hosts.tmp" "$LAB/known_hosts"
  {
    echo "host,address,ssh_port,http_port,user,root"
    for ((i = 1; i <= n; i++)); do
      echo "host$i,$(host_addr "$i"),$(host_ssh_port "$i"),$(host_http_port "$i"),$LOGIN_USER,$LAB/hosts/host$i/root"
    done
  } >"$LAB/hosts.csv"
}

pg_run() {  # runs a PostgreSQL tool as the database's owner
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_alive() { [ -f "$LAB/postgres/data/postmaster.pid" ] && kill -0 "$(head -1 "$LAB/postgres/data/postmaster.pid")" 2>/dev/null; }

start_postgres() {
  local pg="$LAB/postgres"
  mkdir -p "$pg/run"
  if [ "$(id -u)" -eq 0 ]; then
    getent passwd postgres >/dev/null || die "user postgres missing (install postgresql)"
    chown postgres: "$pg" "$pg/run"
  fi
  chmod 700 "$pg/run"
  if [ ! -f "$pg/data/PG_VERSION" ]; then
    pg_run "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$pg/initdb.log" 2>&1 || die "initdb failed (see $pg/initdb.log)"
  fi
  local port
  if pg_alive; then
    port=$(cat "$pg/port")
  else
    # Labs started side by side may pick the same free port between the check and the bind:
    # the loser sees "Address already in use" and moves on to the next port.
    port=$PG_FIRST_PORT
    local attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      while port_in_use 127.0.0.1 "$port"; do port=$((port + 1)); done
      echo "$port" >"$pg/port"
      if [ -f "$pg/postgres.log" ]; then : >"$pg/postgres.log"; fi
      if pg_run "$PG_BIN/pg_ctl" -D "$pg/data" -l "$pg/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pg/run" \
        start >/dev/null; then
        break
      fi
      grep -q "Address already in use" "$pg/postgres.log" 2>/dev/null && [ "$attempt" -lt 10 ] ||
        die "PostgreSQL did not start (see $pg/postgres.log)"
      port=$((port + 1))
    done
  fi
  PG_PORT=$port
  if [ ! -f "$pg/demo.password" ]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$pg/demo.password")
  fi
  local password
  password=$(cat "$pg/demo.password")
  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg/run" -p "$port" -U postgres)
  if ! pg_run "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'demo'" | grep -q 1; then
    # The password travels on stdin, never on a command line.
    printf "CREATE ROLE demo LOGIN PASSWORD '%s';\n" "$password" | pg_run "${psql[@]}" -d postgres
  fi
  if ! pg_run "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'demo'" | grep -q 1; then
    pg_run "${psql[@]}" -d postgres -c "CREATE DATABASE demo OWNER demo"
    pg_run "${psql[@]}" -d demo <<'SQL'
SET ROLE demo;
CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL);
INSERT INTO orders (item, quantity) VALUES ('widget', 3), ('gadget', 1);
INSERT INTO schema_migrations (version) VALUES ('0001_initial');
SQL
  fi
  # One database per environment for the demo system (demo_dev, demo_test, demo_prod), copies of
  # the initial one, so each environment migrates on its own.
  local env_db
  for env_db in demo_dev demo_test demo_prod; do
    if ! pg_run "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$env_db'" | grep -q 1; then
      pg_run "${psql[@]}" -d postgres -c "CREATE DATABASE $env_db OWNER demo TEMPLATE demo"
      if [ "$env_db" = demo_prod ]; then
        # Production data is messier than the test data: the same item ordered twice.
        pg_run "${psql[@]}" -d demo_prod -c "SET ROLE demo; INSERT INTO orders (item, quantity) VALUES ('widget', 7), ('sprocket', 2)"
      fi
    fi
  done
  cat >"$LAB/postgres.env" <<EOF
# Source this file to reach the lab database: . $LAB/postgres.env && psql
PGHOST=127.0.0.1
PGPORT=$port
PGDATABASE=demo
PGUSER=demo
PGPASSFILE=$LAB/pgpass
export PGHOST PGPORT PGDATABASE PGUSER PGPASSFILE
EOF
  # Every database of the demo role (demo and one per environment).
  (umask 077 && echo "127.0.0.1:$port:*:demo:$password" >"$LAB/pgpass")
}

cmd_up() {
  local n=${1:-}
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 250 ] || die "usage: lab.sh up N (1..250)"
  valid_subnet "$SUBNET" || die "ROLLGATE_LAB_SUBNET must be 127.x.y (loopback only)"
  command -v ssh-keygen >/dev/null || die "ssh-keygen missing (install openssh-client)"
  [ -x "$SSHD" ] || die "$SSHD missing (install openssh-server)"
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb missing (install postgresql-15)"
  local demo
  demo=$(find_demo_binary)
  [ -x "$demo" ] || die "demo service binary $demo is not executable"
  mkdir -p "$LAB"
  chmod 755 "$LAB"
  load_conf
  if [ -z "${MODE:-}" ]; then
    if can_bind "$SUBNET.1" "$SSH_PORT"; then MODE=subnet; else MODE=ports; fi
    printf 'MODE=%s\nSUBNET=%s\nSSH_PORT=%s\nHTTP_PORT=%s\n' "$MODE" "$SUBNET" "$SSH_PORT" "$HTTP_PORT" >"$LAB/lab.conf"
    log "addressing: $MODE"
  fi
  if [ -n "${LAB_LOGIN_USER:-}" ]; then
    # Chosen at the first `up` of this lab directory (lab.conf).
    if [ -n "${ROLLGATE_LAB_USER:-}" ] && [ "$ROLLGATE_LAB_USER" != "$LAB_LOGIN_USER" ]; then
      die "this lab logs in as $LAB_LOGIN_USER; run lab.sh down and use another ROLLGATE_LAB_DIR"
    fi
    ROLLGATE_LAB_USER=$LAB_LOGIN_USER
  fi
  if [ "$(id -u)" -eq 0 ]; then
    LOGIN_USER=${ROLLGATE_LAB_USER:-root}
    [ -d /run/sshd ] || { mkdir -p /run/sshd && chmod 755 /run/sshd; }
    if [ "$LOGIN_USER" != root ]; then
      [[ $LOGIN_USER =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "ROLLGATE_LAB_USER: not a user name"
      if ! getent passwd "$LOGIN_USER" >/dev/null; then
        [ "$LOGIN_USER" = rollgate-lab ] || die "user $LOGIN_USER does not exist (only rollgate-lab is created)"
        useradd --system --no-create-home --home-dir /tmp --shell /bin/sh rollgate-lab
        # '*': no password can log in, but the account is not locked (sshd refuses locked ones).
        usermod -p '*' rollgate-lab
        log "created system user rollgate-lab (login shell /bin/sh)"
      fi
    fi
  else
    LOGIN_USER=$(id -un)
    [ "${ROLLGATE_LAB_USER:-$LOGIN_USER}" = "$LOGIN_USER" ] || die "ROLLGATE_LAB_USER needs root"
  fi
  grep -q '^LAB_LOGIN_USER=' "$LAB/lab.conf" || echo "LAB_LOGIN_USER=$LOGIN_USER" >>"$LAB/lab.conf"
  local previous=0
  [ -f "$LAB/hosts.count" ] && previous=$(cat "$LAB/hosts.count")
  [ "$previous" -gt "$n" ] && n=$previous
  echo "$n" >"$LAB/hosts.count"
  setup_client
  start_postgres
  local i
  for ((i = 1; i <= n; i++)); do
    setup_host "$i" "$demo"
    if [ "$LOGIN_USER" != "$(id -un)" ]; then
      chown -R "$LOGIN_USER:" "$LAB/hosts/host$i/root"
    fi
  done
  # Scratch space the hosts share by its real path (exit-status files, uploads): see
  # rollgate-hosts.yaml's work_dir.
  mkdir -p "$LAB/work"
  if [ "$LOGIN_USER" != "$(id -un)" ]; then chown "$LOGIN_USER:" "$LAB/work"; fi
  write_client_config "$n"
  for ((i = 1; i <= n; i++)); do
    start_sshd "$i"
    if [ "$LOGIN_USER" != "$(id -un)" ]; then
      runuser -u "$LOGIN_USER" -- "$LAB/hosts/host$i/root/bin/demo-service" start >/dev/null
    else
      "$LAB/hosts/host$i/root/bin/demo-service" start >/dev/null
    fi
  done
  ROLLGATE_LAB_DIR=$LAB "$HERE/make-patches.sh" 2>/dev/null
  log "up: $n hosts; ssh -F $LAB/ssh_config host1; database: . $LAB/postgres.env && psql"
}

cmd_down() {
  [ -d "$LAB" ] || { log "down: no lab at $LAB"; return 0; }
  load_conf
  local dir failed=0
  for dir in "$LAB"/hosts/host*; do
    [ -d "$dir" ] || continue
    if [ -x "$dir/root/bin/demo-service" ]; then
      "$dir/root/bin/demo-service" stop >/dev/null || failed=1
    fi
    if alive "$dir/sshd.pid"; then
      local pid
      pid=$(cat "$dir/sshd.pid")
      # Its per-connection children first (sessions of clients that still hold a connection).
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill "$pid" 2>/dev/null || true
      local n=0
      while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do n=$((n + 1)); sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/sshd.pid"
  done
  if pg_alive; then
    pg_run "$PG_BIN/pg_ctl" -D "$LAB/postgres/data" -m fast -w -t 60 stop >/dev/null || failed=1
  fi
  [ $failed -eq 0 ] || die "down: something did not stop; see lab.sh status"
  log "down: stopped everything in $LAB"
}

cmd_status() {
  local json=0
  [ "${1:-}" = --json ] && json=1
  if [ ! -f "$LAB/hosts.count" ]; then
    if [ $json -eq 1 ]; then echo '{"lab_dir":"'"$LAB"'","hosts":[],"postgres":{"running":false}}'; else echo "no lab at $LAB"; fi
    return 0
  fi
  load_conf
  local n i entries=() sshd service health pg_state=false pg_port=null
  n=$(cat "$LAB/hosts.count")
  for ((i = 1; i <= n; i++)); do
    local dir="$LAB/hosts/host$i"
    sshd=false; service=false; health=false
    alive "$dir/sshd.pid" && sshd=true
    "$dir/root/bin/demo-service" status >/dev/null 2>&1 && service=true
    if [ $service = true ] && curl -fsS -m 2 -o /dev/null "http://$(host_addr "$i"):$(host_http_port "$i")/health" 2>/dev/null; then
      health=true
    fi
    local version
    version=$(head -1 "$dir/root/opt/demo/VERSION" 2>/dev/null || echo unknown)
    if [ $json -eq 1 ]; then
      entries+=("{\"name\":\"host$i\",\"address\":\"$(host_addr "$i")\",\"ssh_port\":$(host_ssh_port "$i"),\"http_port\":$(host_http_port "$i"),\"sshd\":$sshd,\"service\":$service,\"healthy\":$health,\"version\":\"$version\",\"root\":\"$dir/root\"}")
    else
      printf 'host%-4s %-15s ssh:%-5s sshd:%-8s service:%-8s health:%-5s version:%s\n' "$i" \
        "$(host_addr "$i")" "$(host_ssh_port "$i")" "$([ $sshd = true ] && echo running || echo stopped)" \
        "$([ $service = true ] && echo running || echo stopped)" "$([ $health = true ] && echo ok || echo fail)" "$version"
    fi
  done
  if pg_alive; then pg_state=true; pg_port=$(cat "$LAB/postgres/port"); fi
  if [ $json -eq 1 ]; then
    local IFS=,
    echo "{\"lab_dir\":\"$LAB\",\"ssh_config\":\"$LAB/ssh_config\",\"hosts\":[${entries[*]}],\"postgres\":{\"running\":$pg_state,\"port\":$pg_port,\"database\":\"demo\"}}"
  else
    echo "postgres $([ $pg_state = true ] && echo running || echo stopped) port:$pg_port database:demo"
  fi
}

cmd_reset() {
  [ -f "$LAB/hosts.count" ] || die "reset: no lab at $LAB (lab.sh up N first)"
  load_conf
  local demo n i
  demo=$(find_demo_binary)
  [ -x "$demo" ] || die "demo service binary $demo is not executable"
  n=$(cat "$LAB/hosts.count")
  LOGIN_USER=${LAB_LOGIN_USER:-$(id -un)}
  pg_alive || die "reset: the lab's PostgreSQL is not running (lab.sh up N first)"
  for ((i = 1; i <= n; i++)); do
    local root="$LAB/hosts/host$i/root"
    as_login "$root/bin/demo-service" stop >/dev/null
    rm -rf "$root/opt/demo" "$root/etc/demo" "$root/var/backups" "$root/var/log/demo" "$root/tmp"
    find "$root/opt" -maxdepth 1 -name 'demo.rollgate-*' -exec rm -rf {} + 2>/dev/null || true
    find "$root/etc" -maxdepth 1 -name 'demo.rollgate-*' -exec rm -rf {} + 2>/dev/null || true
    setup_host "$i" "$demo"
    if [ "$LOGIN_USER" != "$(id -un)" ]; then chown -R "$LOGIN_USER:" "$root"; fi
    as_login "$root/bin/demo-service" start >/dev/null
  done
  local port
  port=$(cat "$LAB/postgres/port")
  local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$LAB/postgres/run" -p "$port" -U postgres)
  local env_db
  for env_db in demo_dev demo_test demo_prod; do
    pg_run "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $env_db WITH (FORCE)"
  done
  start_postgres
  log "reset: $n hosts on demo 1.0.0; databases recreated"
}

as_login() {  # as_login CMD...: runs CMD as the lab's login user
  if [ "$LOGIN_USER" != "$(id -un)" ]; then runuser -u "$LOGIN_USER" -- "$@"; else "$@"; fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  reset) cmd_reset ;;
  down) cmd_down ;;
  status) shift; cmd_status "$@" ;;
  *) echo "usage: lab.sh up N | down | status [--json]" >&2; exit 2 ;;
esac
