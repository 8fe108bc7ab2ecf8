#!/usr/bin/env bash
# onehub installer: from a fresh Debian/Ubuntu machine to a running hub.
#
#   curl -fsSL <release url>/install.sh | sudo bash -s -- --admin teacher
#
# A list of idempotent steps, each saying what it does. Re-running upgrades
# in place and keeps users, tokens, config and running servers. Run with
# --help for the flags.
set -euo pipefail

ONEHUB_DENO_VERSION=2.9.6
PREFIX=/opt/onehub
BIN=/usr/local/bin/onehub
CONFIG_DIR=/etc/onehub
CONFIG=$CONFIG_DIR/config.yaml
STATE_DIR=/var/lib/onehub
UNIT=/etc/systemd/system/onehub.service
PROXY_UNIT=/etc/systemd/system/onehub-proxy.service
PROXY_ENV=$CONFIG_DIR/proxy.env
PAM_FILE=/etc/pam.d/onehub
NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org/}
# Where release binaries are published (onehub-linux-<arch>); none yet.
RELEASE_BASE=${ONEHUB_RELEASE_BASE:-}

usage() {
  cat <<'EOF'
Usage: install.sh [options]        (as root; curl ... | sudo bash -s -- [options])

Installs onehub as the systemd service onehub.service: the onehub program,
the Jupyter single-user server (Debian/Ubuntu package jupyterhub), the config
/etc/onehub/config.yaml (never overwritten), the state folder /var/lib/onehub
(0700), the PAM service /etc/pam.d/onehub, then starts the hub and waits until
it answers. Re-running upgrades in place: users, tokens, config and running
servers are kept.

Options:
  --admin NAME          Make NAME an admin (repeat for more; only when the config is new)
  --port N              Public port of a new config (default 80)
  --hub-port N          The hub's own loopback port of a new config (default 8081)
  --letsencrypt DOMAIN  HTTPS on 443 with a Let's Encrypt certificate for DOMAIN
                        (repeat for more names) in a new config; DOMAIN must reach
                        this machine on port 80 (--port)
  --email ADDRESS       Contact for Let's Encrypt (expiry notices)
  --spawner TYPE        systemd (default: servers in their own units, with limits)
                        or local (plain processes) for a new config
  --binary PATH         Install this onehub binary (made by "deno task compile")
  --from-source SRC     Run onehub from source with Deno: SRC is a checkout folder
                        or the URL of a .tar.gz of one; Deno comes from the npm registry
  --proxy-unit          Run the proxy as its own service, onehub-proxy.service (plain
                        HTTP), so "systemctl restart onehub" keeps users' open
                        connections (kernels' WebSockets); kept on later re-runs
  --proxy-api-port N    The proxy's loopback API port with --proxy-unit (default 8001)
  --jupyterlab          Install JupyterLab in a Python venv (/opt/onehub/venv, from
                        the Python package index, which must be reachable) and
                        start users' servers from it, opening /lab. Without it:
                        where apt has JupyterLab (Debian 13 and later) it comes
                        from apt and servers open /lab; elsewhere (Debian 12)
                        users get the classic notebook
  --no-singleuser       Do not install the jupyterhub package (bring your own
                        jupyterhub-singleuser and set spawner.cmd)
  --uninstall           Stop and remove the service and the program; keep
                        /etc/onehub and /var/lib/onehub
  --purge               With --uninstall: also remove config, state and the PAM file
  -h, --help            Show this help

Without --binary or --from-source the release binary is downloaded from
$ONEHUB_RELEASE_BASE/onehub-linux-<arch>.

Environment: ONEHUB_RELEASE_BASE (release folder URL), NPM_REGISTRY (default
https://registry.npmjs.org/).

After installing: onehub config set|reload, journalctl -u onehub,
systemctl restart onehub. Exit status 0 done, 1 failed or unsupported, 2 bad usage.
EOF
}

say() { printf 'onehub: %s\n' "$*" >&2; }
die() {
  printf 'onehub: error: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'onehub: %s (see install.sh --help)\n' "$*" >&2
  exit 2
}

# ---- arguments ----
ADMINS=()
PORT=80
HUB_PORT=8081
DOMAINS=()
EMAIL=""
SPAWNER=systemd
BINARY=""
SOURCE=""
SINGLEUSER=1
SEPARATE_PROXY=0
PROXY_API_PORT=8001
JUPYTERLAB=0
PIP_INDEX=${PIP_INDEX_URL:-https://pypi.org/simple/}
UNINSTALL=0
PURGE=0
while [ $# -gt 0 ]; do
  case $1 in
  --admin) [ $# -ge 2 ] || usage_error "--admin needs a name"; ADMINS+=("$2"); shift 2 ;;
  --port) [ $# -ge 2 ] || usage_error "--port needs a number"; PORT=$2; shift 2 ;;
  --hub-port) [ $# -ge 2 ] || usage_error "--hub-port needs a number"; HUB_PORT=$2; shift 2 ;;
  --letsencrypt) [ $# -ge 2 ] || usage_error "--letsencrypt needs a domain"; DOMAINS+=("$2"); shift 2 ;;
  --email) [ $# -ge 2 ] || usage_error "--email needs an address"; EMAIL=$2; shift 2 ;;
  --spawner) [ $# -ge 2 ] || usage_error "--spawner needs systemd or local"; SPAWNER=$2; shift 2 ;;
  --binary) [ $# -ge 2 ] || usage_error "--binary needs a path"; BINARY=$2; shift 2 ;;
  --from-source) [ $# -ge 2 ] || usage_error "--from-source needs a folder or URL"; SOURCE=$2; shift 2 ;;
  --no-singleuser) SINGLEUSER=0; shift ;;
  --proxy-unit) SEPARATE_PROXY=1; shift ;;
  --jupyterlab) JUPYTERLAB=1; shift ;;
  --proxy-api-port) [ $# -ge 2 ] || usage_error "--proxy-api-port needs a number"; PROXY_API_PORT=$2; shift 2 ;;
  --uninstall) UNINSTALL=1; shift ;;
  --purge) PURGE=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage_error "unknown option \"$1\"" ;;
  esac
done
case $PORT in '' | *[!0-9]*) usage_error "--port must be a number, got \"$PORT\"" ;; esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || usage_error "--port must be 1..65535, got $PORT"
case $HUB_PORT in '' | *[!0-9]*) usage_error "--hub-port must be a number, got \"$HUB_PORT\"" ;; esac
[ "$HUB_PORT" -ge 1 ] && [ "$HUB_PORT" -le 65535 ] && [ "$HUB_PORT" != "$PORT" ] ||
  usage_error "--hub-port must be 1..65535 and differ from --port, got $HUB_PORT"
case $PROXY_API_PORT in '' | *[!0-9]*) usage_error "--proxy-api-port must be a number, got \"$PROXY_API_PORT\"" ;; esac
case $SPAWNER in systemd | local) ;; *) usage_error "--spawner must be systemd or local, got \"$SPAWNER\"" ;; esac
[ -z "$BINARY" ] || [ -z "$SOURCE" ] || usage_error "give --binary or --from-source, not both"
[ "$PURGE" -eq 0 ] || [ "$UNINSTALL" -eq 1 ] || usage_error "--purge only goes with --uninstall"
for domain in "${DOMAINS[@]+"${DOMAINS[@]}"}"; do
  case $domain in '' | *[!a-zA-Z0-9.-]* | .* | *. | *..*) usage_error "--letsencrypt \"$domain\" is not a DNS name such as hub.example.org" ;; esac
done
case $EMAIL in '' | *@*.*) ;; *) usage_error "--email \"$EMAIL\" is not an e-mail address" ;; esac
for name in "${ADMINS[@]+"${ADMINS[@]}"}"; do
  case $name in '' | *[!a-z0-9._-]* | [!a-z0-9_]*) usage_error "--admin \"$name\" is not a valid user name (lowercase letters, digits, . _ -)" ;; esac
done

# ---- steps ----
check_host() {
  say "checking this machine"
  [ "$(id -u)" -eq 0 ] || die "run as root: curl ... | sudo bash -s -- ..."
  [ -r /etc/os-release ] || die "unsupported system: /etc/os-release is missing (Debian 12+ or Ubuntu 22.04+ needed)"
  # shellcheck disable=SC1091
  . /etc/os-release
  case "${ID:-}:${VERSION_ID:-}" in
  debian:12 | debian:13 | ubuntu:22.04 | ubuntu:24.04 | ubuntu:24.10 | ubuntu:25.04) ;;
  *) die "unsupported system ${PRETTY_NAME:-unknown}: onehub installs on Debian 12/13 or Ubuntu 22.04/24.04" ;;
  esac
  case "$(uname -m)" in
  x86_64) ARCH=x86_64 NPM_ARCH=x64 ;;
  aarch64) ARCH=aarch64 NPM_ARCH=arm64 ;;
  *) die "unsupported processor $(uname -m): onehub runs on x86_64 and aarch64" ;;
  esac
  [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] ||
    die "systemd is not running as PID 1: onehub installs as a systemd service (in a container, boot it with systemd)"
  if [ "$UNINSTALL" -eq 0 ] && ! [ -f "$CONFIG" ]; then
    if port_taken "$PORT"; then
      die "port $PORT is in use ($(port_user "$PORT")): free it or pick another with --port"
    fi
    if [ "${#DOMAINS[@]}" -gt 0 ] && port_taken 443; then
      die "port 443 is in use ($(port_user 443)): HTTPS with --letsencrypt needs it"
    fi
    if port_taken "$HUB_PORT"; then
      die "port $HUB_PORT (the hub's own, on 127.0.0.1) is in use ($(port_user "$HUB_PORT")): free it or pick another with --hub-port"
    fi
  fi
}

# (No "| grep -q" under pipefail: grep exits early, the writer gets SIGPIPE
# and the pipeline fails even on a match.)
port_taken() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
port_user() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*"' | head -1 | cut -d'"' -f2 || true; }

wait_for_dpkg() {
  local waited=0
  while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1 ||
    pgrep -x 'apt|apt-get|dpkg|unattended-upgr' >/dev/null 2>&1; do
    [ "$waited" -eq 0 ] && say "waiting for another package manager to finish (fresh machines run updates at boot)"
    [ "$waited" -lt 900 ] || die "the package manager stayed busy for 15 minutes: try again later"
    sleep 5
    waited=$((waited + 5))
  done
}

APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" -eq 0 ] || return 0
  wait_for_dpkg
  apt-get update -q >/tmp/onehub-apt.log 2>&1 || { tail -20 /tmp/onehub-apt.log >&2; die "apt-get update failed"; }
  APT_UPDATED=1
}

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# The version apt would install of a package, or nothing when it has none.
apt_candidate() {
  apt_update_once
  apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '^(none)$' || true
}

apt_install() {
  local missing=()
  for p in "$@"; do
    installed "$p" || missing+=("$p")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  wait_for_dpkg
  apt_update_once
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/onehub-apt.log 2>&1 ||
    { tail -20 /tmp/onehub-apt.log >&2; die "apt-get install ${missing[*]} failed (log: /tmp/onehub-apt.log)"; }
}

ensure_base_packages() {
  local need=()
  command -v curl >/dev/null || need+=(curl)
  [ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
  command -v ss >/dev/null || need+=(iproute2)
  command -v fuser >/dev/null || need+=(psmisc)
  command -v setpriv >/dev/null || need+=(util-linux)
  [ -e /usr/lib/x86_64-linux-gnu/libpam.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/libpam.so.0 ] ||
    [ -e /lib/x86_64-linux-gnu/libpam.so.0 ] || [ -e /lib/aarch64-linux-gnu/libpam.so.0 ] || need+=(libpam0g)
  [ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"
}

SINGLEUSER_BIN=/usr/bin/jupyterhub-singleuser
ensure_singleuser() {
  [ "$SINGLEUSER" -eq 1 ] || { say "skipping the single-user server (--no-singleuser)"; return 0; }
  # (A re-run with a server installed asks apt nothing new.)
  if [ "$JUPYTERLAB" -eq 0 ] && { installed jupyterlab ||
    { ! [ -x "$SINGLEUSER_BIN" ] && [ -n "$(apt_candidate jupyterlab)" ]; }; }; then
    # Debian 13 and later carry JupyterHub 5 and JupyterLab 4 (recommends
    # would add ~900 packages, Chromium among them: apt_install skips them).
    apt_install jupyterhub jupyterlab
    LAB_FROM_APT=1
  elif [ -x "$SINGLEUSER_BIN" ]; then
    say "jupyterhub-singleuser is installed"
  else
    apt_install jupyterhub python3-notebook
  fi
  # The package brings its own hub as a service (ports 8000 and 8081), started
  # on install; onehub replaces it.
  if systemctl cat jupyterhub.service >/dev/null 2>&1; then
    if systemctl is-enabled --quiet jupyterhub.service 2>/dev/null ||
      [ "$(systemctl is-active jupyterhub.service 2>/dev/null)" != inactive ]; then
      say "stopping and disabling the distribution's jupyterhub.service (onehub replaces it)"
      systemctl disable --now jupyterhub.service >/dev/null 2>&1 || true
    fi
  fi
}

# JupyterLab (and a jupyterhub-singleuser that matches it) in a venv, from
# the Python package index; Debian's packages give the classic notebook only.
ensure_jupyterlab() {
  [ "$JUPYTERLAB" -eq 1 ] || return 0
  local venv=$PREFIX/venv
  if ! curl -fsS -o /dev/null --max-time 15 "${PIP_INDEX%/}/jupyterlab/"; then
    die "the Python package index ${PIP_INDEX} cannot be reached, so JupyterLab cannot be installed: run without --jupyterlab (users get the classic notebook) or set PIP_INDEX_URL to a reachable index"
  fi
  apt_install python3-venv
  if ! [ -x "$venv/bin/jupyterhub-singleuser" ]; then
    say "installing JupyterLab into $venv"
    python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  else
    say "upgrading JupyterLab in $venv"
  fi
  PIP_INDEX_URL=$PIP_INDEX "$venv/bin/pip" install -q --upgrade jupyterhub jupyterlab >/tmp/onehub-pip.log 2>&1 ||
    { tail -20 /tmp/onehub-pip.log >&2; die "pip install jupyterhub jupyterlab failed (log: /tmp/onehub-pip.log)"; }
  "$BIN" config set spawner.cmd "$venv/bin/jupyterhub-singleuser" --config "$CONFIG" >/dev/null
  "$BIN" config set spawner.default_url /lab --config "$CONFIG" >/dev/null
}

# With JupyterLab from apt, servers open /lab, unless the config already
# names a page (spawner.default_url).
LAB_FROM_APT=0
ensure_lab_default() {
  [ "$LAB_FROM_APT" -eq 1 ] || return 0
  [ -z "$("$BIN" config get spawner.default_url --config "$CONFIG" 2>/dev/null)" ] || return 0
  "$BIN" config set spawner.default_url /lab --config "$CONFIG" >/dev/null
  say "users' servers open JupyterLab (/lab): onehub config set spawner.default_url /tree for the classic view"
}

# Replaces a file atomically (write beside it, then rename).
install_file() {
  local src=$1 dst=$2 mode=$3 tmp
  tmp="$dst.new.$$"
  install -D -m "$mode" "$src" "$tmp"
  mv -f "$tmp" "$dst"
}

ensure_program() {
  if [ -n "$BINARY" ]; then
    [ -f "$BINARY" ] || die "--binary $BINARY does not exist"
    say "installing the onehub binary $BINARY as $BIN"
    install_file "$BINARY" "$BIN" 0755
  elif [ -n "$SOURCE" ]; then
    install_from_source
  else
    [ -n "$RELEASE_BASE" ] || die "no onehub release is published yet: install with --from-source <checkout or .tar.gz URL> or --binary <path>"
    say "downloading onehub-linux-$ARCH from $RELEASE_BASE"
    curl -fsSL --retry 3 -o "/tmp/onehub.$$" "$RELEASE_BASE/onehub-linux-$ARCH" || die "download of $RELEASE_BASE/onehub-linux-$ARCH failed"
    install_file "/tmp/onehub.$$" "$BIN" 0755
    rm -f "/tmp/onehub.$$"
  fi
  "$BIN" version >/dev/null 2>&1 || die "$BIN does not run: $("$BIN" version 2>&1 | tail -1)"
}

install_from_source() {
  local deno=$PREFIX/deno/bin/deno
  if ! [ -x "$deno" ] || [ "$("$deno" --version 2>/dev/null | head -1 | cut -d' ' -f2)" != "$ONEHUB_DENO_VERSION" ]; then
    say "installing Deno $ONEHUB_DENO_VERSION from the npm registry"
    local url="${NPM_REGISTRY%/}/@deno/linux-$NPM_ARCH-glibc/-/linux-$NPM_ARCH-glibc-$ONEHUB_DENO_VERSION.tgz"
    local tmp
    tmp=$(mktemp -d)
    curl -fsSL --retry 3 -o "$tmp/deno.tgz" "$url" || die "download of Deno from $url failed"
    tar -xzf "$tmp/deno.tgz" -C "$tmp" package/deno || die "the Deno package has no deno binary"
    install_file "$tmp/package/deno" "$deno" 0755
    rm -rf "$tmp"
  fi
  say "installing onehub's source from $SOURCE into $PREFIX/src"
  local new=$PREFIX/src.new.$$
  rm -rf "$new"
  mkdir -p "$new"
  case $SOURCE in
  http://* | https://*)
    curl -fsSL --retry 3 "$SOURCE" | tar -xz -C "$new" --strip-components="${SOURCE_STRIP:-0}" ||
      die "download or unpacking of $SOURCE failed"
    ;;
  *)
    [ -f "$SOURCE/main.ts" ] || die "--from-source $SOURCE is not a onehub checkout (no main.ts)"
    tar -C "$SOURCE" --exclude=.git --exclude=node_modules --exclude=.onehub-dev --exclude=test-output -cf - . | tar -C "$new" -xf -
    ;;
  esac
  [ -f "$new/main.ts" ] || die "$SOURCE holds no main.ts at its top level"
  say "fetching onehub's packages (hono, kysely, ...) into $PREFIX/cache"
  # The system store too: a machine behind a TLS-inspecting proxy trusts its CA there.
  DENO_TLS_CA_STORE=system,mozilla DENO_DIR=$PREFIX/cache NPM_CONFIG_REGISTRY=$NPM_REGISTRY "$deno" cache --quiet --config "$new/deno.json" "$new/main.ts" >/tmp/onehub-cache.log 2>&1 ||
    { tail -20 /tmp/onehub-cache.log >&2; die "deno could not fetch onehub's packages"; }
  rm -rf "$PREFIX/src.old"
  [ -d "$PREFIX/src" ] && mv "$PREFIX/src" "$PREFIX/src.old"
  mv "$new" "$PREFIX/src"
  rm -rf "$PREFIX/src.old"
  cat >"$BIN.new.$$" <<EOF
#!/bin/sh
# onehub run from source by Deno (written by install.sh --from-source).
export DENO_DIR=$PREFIX/cache DENO_TLS_CA_STORE=system,mozilla
exec $deno run -A --cached-only --v8-flags=--max-semi-space-size=2,--heap-growing-percent=25 --config $PREFIX/src/deno.json $PREFIX/src/main.ts "\$@"
EOF
  chmod 0755 "$BIN.new.$$"
  mv -f "$BIN.new.$$" "$BIN"
}

ensure_config() {
  install -d -m 0755 "$CONFIG_DIR"
  if [ -f "$CONFIG" ]; then
    say "keeping the existing $CONFIG"
    [ "${#ADMINS[@]}" -eq 0 ] || say "note: --admin is ignored for an existing config: use onehub config add-item users.admin NAME"
    return 0
  fi
  say "writing $CONFIG"
  {
    echo "# onehub configuration, written by install.sh. Edit with \"onehub config set KEY VALUE\","
    echo "# apply with \"onehub config reload\"; \"onehub config keys\" lists every key."
    echo "http:"
    echo "  ip: 0.0.0.0"
    echo "  port: $PORT"
    echo "hub:"
    echo "  port: $HUB_PORT"
    echo "data_dir: $STATE_DIR"
    echo "auth:"
    echo "  type: pam"
    echo "spawner:"
    echo "  type: $SPAWNER"
    if [ "${#DOMAINS[@]}" -gt 0 ]; then
      echo "https:"
      echo "  enabled: true"
      echo "  port: 443"
      echo "  letsencrypt:"
      echo "    email: \"$EMAIL\""
      echo "    domains:"
      for domain in "${DOMAINS[@]}"; do echo "      - $domain"; done
    fi
    echo "users:"
    if [ "${#ADMINS[@]}" -gt 0 ]; then
      echo "  admin:"
      for name in "${ADMINS[@]}"; do echo "    - $name"; done
    else
      echo "  admin: []"
    fi
  } >"$CONFIG.new.$$"
  chmod 0600 "$CONFIG.new.$$"
  mv "$CONFIG.new.$$" "$CONFIG"
}

ensure_state_dir() {
  say "making the state folder $STATE_DIR (0700)"
  install -d -m 0700 "$STATE_DIR"
  chmod 0700 "$STATE_DIR"
}

ensure_pam_service() {
  if [ -f "$PAM_FILE" ]; then return 0; fi
  say "writing the PAM service $PAM_FILE"
  # Keep in step with PAM_SERVICE_FILE_TEXT in hub/auth/pam/mod.ts (a test compares them).
  cat >"$PAM_FILE" <<'EOF'
# PAM service for onehub logins (written by the onehub installer).
# The hub checks the password (auth) and that the account may log in now
# (account: expiry, locked by expiry, password change required).
# It opens no session.
@include common-auth
@include common-account
EOF
  chmod 0644 "$PAM_FILE"
}

# The proxy in its own unit (onehub proxy, configurable-http-proxy's API on
# loopback): the hub drives it with proxy.mode external, and restarting the
# hub leaves every open connection alone. Kept on re-runs once chosen.
PROXY_CHANGED=0
ensure_proxy_unit() {
  [ "$SEPARATE_PROXY" -eq 1 ] || [ -f "$PROXY_UNIT" ] || return 0
  if ! [ -f "$PROXY_ENV" ]; then
    say "making the proxy's API token in $PROXY_ENV (0600)"
    (
      umask 077
      printf 'CONFIGPROXY_AUTH_TOKEN=%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')" >"$PROXY_ENV"
    )
  fi
  if [ -f "$PROXY_UNIT" ]; then
    PROXY_API_PORT=$(sed -n 's/.*--api-port \([0-9]*\).*/\1/p' "$PROXY_UNIT")
  fi
  local ip port hub_port
  ip=$("$BIN" config get http.ip --config "$CONFIG")
  port=$("$BIN" config get http.port --config "$CONFIG")
  hub_port=$("$BIN" config get hub.port --config "$CONFIG")
  if [ "$("$BIN" config get proxy.mode --config "$CONFIG")" != external ]; then
    say "switching the hub to the separate proxy (proxy.mode external)"
    "$BIN" config set proxy.mode external --config "$CONFIG" >/dev/null
    PROXY_CHANGED=1
  fi
  if [ "$("$BIN" config get proxy.api_url --config "$CONFIG")" != "http://127.0.0.1:$PROXY_API_PORT" ]; then
    "$BIN" config set proxy.api_url "http://127.0.0.1:$PROXY_API_PORT" --config "$CONFIG" >/dev/null
  fi
  cat >"$PROXY_UNIT.new.$$" <<EOF
# onehub-proxy.service, written by install.sh --proxy-unit.
[Unit]
Description=onehub proxy: users' connections, kept open across hub restarts
After=network-online.target
Wants=network-online.target
Before=onehub.service

[Service]
Type=simple
EnvironmentFile=$PROXY_ENV
ExecStart=$BIN proxy --ip $ip --port $port --api-port $PROXY_API_PORT --default-target http://127.0.0.1:$hub_port
Restart=on-failure
RestartSec=2
# The proxy starts no process and writes no file: it is held tighter than
# the hub (it runs as root only to bind ports below 1024).
NoNewPrivileges=true
ProtectSystem=full
ProtectHome=true
PrivateTmp=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
RestrictRealtime=true
LockPersonality=true
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
EOF
  if ! cmp -s "$PROXY_UNIT.new.$$" "$PROXY_UNIT" 2>/dev/null; then
    say "writing $PROXY_UNIT"
    PROXY_CHANGED=1
  fi
  mv -f "$PROXY_UNIT.new.$$" "$PROXY_UNIT"
}

ensure_unit() {
  say "writing $UNIT"
  cat >"$UNIT.new.$$" <<EOF
# onehub.service, written by install.sh (re-running it rewrites this file).
[Unit]
Description=onehub: Jupyter for small teams (hub, proxy and spawner)
Documentation=https://github.com/onehub/onehub
After=network-online.target onehub-proxy.service
Wants=network-online.target

[Service]
Type=simple
ExecStart=$BIN serve --config $CONFIG
# The separate proxy's API token (install.sh --proxy-unit), when there is one.
EnvironmentFile=-$PROXY_ENV
# onehub config reload / systemctl reload onehub: applies the live keys.
ExecReload=/bin/kill -HUP \$MAINPID
Restart=on-failure
RestartSec=2
# Servers of the local spawner are children of the hub: on restart or
# upgrade only the hub is stopped, the servers keep running and the new hub
# re-adopts them (servers of the systemd spawner are units of their own).
KillMode=process
TimeoutStopSec=30
# CPU, the hub first: while a class starts, each server of the systemd
# spawner is a unit weighing CPUWeight=11 until it answers (spawner.start_nice),
# then 100; at 1000 the hub's pages and API keep answering beside them.
# (The local spawner's servers share this cgroup; there hub.nice decides.)
CPUWeight=1000
# The hub runs as root: PAM must read /etc/shadow, servers are started as
# each user's uid, and create_system_users runs useradd. Each line below
# stays safe under that.
# /usr and /boot read-only (not /etc: useradd writes /etc/passwd).
ProtectSystem=true
# No kernel tunables, modules, logs, clock or hostname changes: the hub
# needs none of them, nor do the servers it starts.
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectClock=true
ProtectHostname=true
# cgroups read-only: the admin page reads server memory there; the systemd
# spawner asks systemd over D-Bus to make units, it writes no cgroup itself.
ProtectControlGroups=true
RestrictRealtime=true
LockPersonality=true
SystemCallArchitectures=native
# Not set, on purpose: NoNewPrivileges (users' servers are children of the
# local spawner and would inherit it: no sudo in a terminal), PrivateTmp
# (the servers would share the hub's private /tmp), ProtectHome (servers
# live in the users' homes).

[Install]
WantedBy=multi-user.target
EOF
  mv -f "$UNIT.new.$$" "$UNIT"
  systemctl daemon-reload
}

start_service() {
  local was_active=0
  systemctl is-active --quiet onehub.service && was_active=1
  if [ -f "$PROXY_UNIT" ]; then
    systemctl enable --quiet onehub-proxy.service
    if [ "$PROXY_CHANGED" -eq 1 ] || ! systemctl is-active --quiet onehub-proxy.service; then
      # A hub with its built-in proxy holds the public port: stop it first.
      if [ "$was_active" -eq 1 ]; then
        systemctl stop onehub.service
        was_active=0
      fi
      say "starting onehub-proxy (users' connections now outlive hub restarts)"
      systemctl restart onehub-proxy.service
    else
      say "keeping onehub-proxy running (open connections stay)"
    fi
  fi
  systemctl enable --quiet onehub.service
  if [ "$was_active" -eq 1 ]; then
    say "restarting onehub (an upgrade keeps users, tokens and running servers)"
    systemctl restart onehub.service
  else
    say "starting onehub"
    systemctl start onehub.service
  fi
  local port
  port=$("$BIN" config get http.port --config "$CONFIG" 2>/dev/null || echo "$PORT")
  local base_url
  base_url=$("$BIN" config get base_url --config "$CONFIG" 2>/dev/null || echo /)
  local https
  https=$("$BIN" config get https.enabled --config "$CONFIG" 2>/dev/null || echo false)
  local check="http://127.0.0.1:$port${base_url}hub/health"
  if [ "$https" = true ]; then
    port=$("$BIN" config get https.port --config "$CONFIG" 2>/dev/null || echo 443)
    check="https://127.0.0.1:$port${base_url}hub/health"
  fi
  say "waiting for $check"
  for _ in $(seq 120); do
    if curl -fsSk -o /dev/null "$check"; then
      local ip
      ip=$(hostname -I 2>/dev/null | awk '{print $1}')
      local scheme=http
      [ "$https" = true ] && scheme=https
      say "onehub is running: $scheme://${ip:-<this machine>}:$port${base_url}"
      cat >&2 <<EOF
onehub: next steps:
  - log in with a Linux account of this machine (admins: users.admin in $CONFIG)
  - add people: adduser NAME, then the admin page, or onehub user add NAME
  - settings: onehub config set KEY VALUE && onehub config reload
  - logs: journalctl -u onehub    restart: systemctl restart onehub
EOF
      return 0
    fi
    case $(systemctl is-active onehub.service 2>/dev/null || true) in
    active | activating | reloading) ;;
    *)
      journalctl -u onehub.service -n 20 --no-pager >&2 || true
      die "onehub.service stopped: see journalctl -u onehub"
      ;;
    esac
    sleep 0.5
  done
  journalctl -u onehub.service -n 20 --no-pager >&2 || true
  die "onehub did not answer $check within 60 s: see journalctl -u onehub"
}

uninstall() {
  say "stopping and removing onehub.service"
  systemctl disable --now onehub.service >/dev/null 2>&1 || true
  if [ -f "$PROXY_UNIT" ]; then
    say "stopping and removing onehub-proxy.service"
    systemctl disable --now onehub-proxy.service >/dev/null 2>&1 || true
    rm -f "$PROXY_UNIT"
  fi
  # Servers of the systemd spawner are transient units onehub-<user>.service;
  # those of the local spawner are processes the hub left running on purpose.
  local units
  units=$(systemctl list-units --plain --no-legend 'onehub-*.service' 2>/dev/null | awk '{print $1}' || true)
  if [ -n "$units" ]; then
    say "stopping the users' servers: $(echo "$units" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    systemctl stop $units >/dev/null 2>&1 || true
  fi
  pkill -f '^/usr/bin/python3 /usr/bin/jupyterhub-singleuser' >/dev/null 2>&1 || true
  rm -f "$UNIT"
  systemctl daemon-reload
  say "removing $BIN and $PREFIX"
  rm -f "$BIN"
  rm -rf "$PREFIX"
  if [ "$PURGE" -eq 1 ]; then
    say "removing $CONFIG_DIR, $STATE_DIR and $PAM_FILE (--purge)"
    rm -rf "$CONFIG_DIR" "$STATE_DIR"
    rm -f "$PAM_FILE"
  else
    say "kept $CONFIG_DIR and $STATE_DIR (remove them with --uninstall --purge)"
  fi
}

main() {
  check_host
  if [ "$UNINSTALL" -eq 1 ]; then
    uninstall
    return 0
  fi
  ensure_base_packages
  ensure_singleuser
  ensure_program
  ensure_config
  ensure_lab_default
  ensure_jupyterlab
  ensure_state_dir
  ensure_pam_service
  ensure_proxy_unit
  ensure_unit
  start_service
}

# Tests source this file with ONEHUB_INSTALL_NO_MAIN=1 to run single steps.
[ "${ONEHUB_INSTALL_NO_MAIN:-}" = 1 ] || main
