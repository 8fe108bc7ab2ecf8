#!/usr/bin/env bash
# Makes sure deno 2.9.6 is on PATH (from npm, the only registry reachable here).
# Sourced by the other tools/ scripts; safe to run again.
set -euo pipefail
DENO_VERSION=2.9.6
if ! command -v deno >/dev/null 2>&1 || ! deno --version 2>/dev/null | grep -q "^deno ${DENO_VERSION} "; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "onehub: npm is needed to install deno; install Node.js and npm first (apt-get install -y nodejs npm)" >&2
    exit 1
  fi
  echo "onehub: installing deno ${DENO_VERSION} from npm" >&2
  npm install -g --allow-scripts=deno "deno@${DENO_VERSION}" >&2 || npm install -g "deno@${DENO_VERSION}" >&2
fi
