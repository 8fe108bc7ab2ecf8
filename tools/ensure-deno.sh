#!/usr/bin/env bash
# Makes sure deno 2.9.6 is on PATH (from npm, the only registry reachable here).
# Sourced by the other tools/ scripts; safe to run again.
set -euo pipefail
DENO_VERSION=2.9.6
if ! command -v deno >/dev/null 2>&1 || ! deno --version 2>/dev/null | grep -q "^deno ${DENO_VERSION} "; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    # A fresh Debian/Ubuntu machine: npm from the distribution, to fetch deno with.
    # Without Recommends: they add several hundred packages (compilers, eslint,
    # webpack…) that fetching deno never uses.
    echo "onehub: installing nodejs and npm (to install deno from npm)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >&2
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "onehub: npm is needed to install deno; install Node.js and npm first (apt-get install -y nodejs npm)" >&2
    exit 1
  fi
  echo "onehub: installing deno ${DENO_VERSION} from npm" >&2
  npm install -g --allow-scripts=deno "deno@${DENO_VERSION}" >&2 || npm install -g "deno@${DENO_VERSION}" >&2
fi
