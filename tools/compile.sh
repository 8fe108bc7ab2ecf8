#!/usr/bin/env bash
# deno task compile: builds dist/onehub, one executable holding the hub, the
# proxy, the spawners, the templates and the migrations (all code; nothing is
# read beside it at run time). deno compile needs its runtime base (denort),
# downloaded from dl.deno.land unless DENORT_BIN names a local copy; where
# neither is possible this says so in one line and exits 1, and install.sh
# is used with --from-source instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/ensure-deno.sh
mkdir -p dist
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if deno compile -A --v8-flags=--max-semi-space-size=2,--heap-growing-percent=25 --no-check=remote \
  --output dist/onehub main.ts >"$log" 2>&1; then
  size=$(du -h dist/onehub | cut -f1)
  echo "onehub: built dist/onehub ($size)"
  exit 0
fi
if grep -qiE 'denort|dl\.deno\.land|error sending request|dns error' "$log"; then
  echo "onehub: cannot compile here: deno compile could not get its runtime base (denort) from dl.deno.land and DENORT_BIN is not set; install with: bash install.sh --from-source ." >&2
  exit 1
fi
cat "$log" >&2
exit 1
