#!/usr/bin/env bash
# Runs a local trial hub: embedded SQLite in ./.onehub-dev, listening on
# 127.0.0.1:8000 with dummy login (any username and password; allowed only
# because the address is loopback). Extra arguments go to `onehub serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/ensure-deno.sh
exec deno run -A --v8-flags=--max-semi-space-size=2,--heap-growing-percent=25 main.ts serve --auth dummy --ip 127.0.0.1 --port 8000 \
  --data-dir "${ONEHUB_DEV_DIR:-$PWD/.onehub-dev}" --config "${ONEHUB_CONFIG:-/dev/null}" "$@"
