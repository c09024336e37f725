#!/usr/bin/env bash
# Installs everything Rollgate needs to build and test, from Debian's packages.
# Idempotent: packages already present are left alone. Run as root on Debian 12.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev clang-format clang-tidy
  # libraries
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libsqlite3-dev sqlite3 libssl-dev libfmt-dev
  libarchive-dev libsodium-dev libcurl4-openssl-dev libcpp-httplib-dev libpugixml-dev zlib1g-dev
  # Boost.Beast and Asio (header-only) for the HTTP server
  libboost-dev
  # the lab fleet and its tests: sshd hosts, PostgreSQL, signing, HTTP
  openssh-server openssh-client postgresql postgresql-client minisign curl openssl python3 util-linux
  passwd tar gzip
  # the metric triggers' tests start their own Prometheus on 127.0.0.1 (they do not use the
  # system service the package enables on systemd hosts)
  prometheus
  # the alerting check's tests (§4.2) start their own Alertmanager on 127.0.0.1 the same way
  prometheus-alertmanager
  # the notification tests deliver to a real SMTP sink on 127.0.0.1 (tests/tools/smtp_sink.py,
  # run with Debian's /usr/bin/python3)
  python3-aiosmtpd
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the dashboard's tests drive Debian's headless Chromium (tests/web); a font for its pages
  chromium fonts-dejavu-core
)
# Node.js for the dashboard's tests, only when there is none on the PATH (npm installs
# playwright-core from tests/web/package-lock.json in the test setup).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
