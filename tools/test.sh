#!/usr/bin/env bash
# Installs what the tests need (deno, Debian packages) and runs every check:
# `deno task ok` = format check, lint, type check, all tests (unit and
# integration; the integration tests need root for PAM and system users).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/ensure-deno.sh
need_apt=()
[ -e /usr/lib/x86_64-linux-gnu/libpam.so.0 ] || [ -e /lib/x86_64-linux-gnu/libpam.so.0 ] || need_apt+=(libpam0g)
command -v useradd >/dev/null 2>&1 || need_apt+=(passwd)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v pgrep >/dev/null 2>&1 || need_apt+=(procps)
# The real single-user server (JupyterHub 3.0 from Debian) for the end-to-end spawn tests.
[ -x /usr/bin/jupyterhub-singleuser ] || need_apt+=(jupyterhub)
# prometheus_client's parser checks /hub/metrics (a jupyterhub dependency; asked for by name all the same).
/usr/bin/python3 -c 'import prometheus_client' >/dev/null 2>&1 || need_apt+=(python3-prometheus-client)
# The clients real scripts upload with, for the early-answer (413) tests: curl and Python requests (Node comes with deno).
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
/usr/bin/python3 -c 'import requests' >/dev/null 2>&1 || need_apt+=(python3-requests)
# git for the course files tests (a git repository made in the test).
command -v git >/dev/null 2>&1 || need_apt+=(git)
# Debian's Chromium for the browser tests (driven by npm playwright-core; no browser download).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "onehub: installing ${need_apt[*]}" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
  else
    echo "onehub: missing ${need_apt[*]}; run as root or install them" >&2
  fi
fi
# PAM tests use the hub's own service file, as the installer writes it.
if [ "$(id -u)" -eq 0 ] && [ ! -e /etc/pam.d/onehub ]; then
  deno eval 'import { PAM_SERVICE_FILE_TEXT } from "./hub/auth/pam/mod.ts"; await Deno.writeTextFile("/etc/pam.d/onehub", PAM_SERVICE_FILE_TEXT);'
fi
exec deno task ok
