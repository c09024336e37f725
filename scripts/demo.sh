#!/usr/bin/env bash
# Installs what is needed, builds Rollgate, and runs its demo on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target rollgate
exec ./build/release/src/cli/rollgate demo "$@"
