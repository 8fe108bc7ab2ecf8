#!/usr/bin/env bash
# Proves that CI is green on a FRESH machine, not only on ours: a green
# `deno task ok` in a work tree can lean on what the machine already has (deno,
# a warm DENO_DIR, apt packages, files not committed). This clones the
# committed HEAD, boots a new Debian 12 container with a real systemd
# (../shared/testbed) and runs `CI=true bash .ci/run` in it as root, as CI
# does, with shared/ read-only beside the clone. Output goes to the terminal
# and to test-output/fresh-ci-<date>.log; the exit code is .ci/run's.
# Without root or the testbed it falls back to the closest thing here (a clean
# clone in a temp dir, an empty DENO_DIR) and says so.
set -euo pipefail
usage() {
  cat <<'EOF'
Usage: bash tools/fresh-ci.sh [--trixie]
Runs .ci/run on a clean clone of the committed HEAD in a fresh Debian 12
container (systemd-nspawn, via ../shared/testbed/testbed.sh; needs root).
  --trixie   Debian 13 instead (same as SUITE=trixie)
Uncommitted changes are not part of the run. The log is kept in
test-output/fresh-ci-<date>.log. About 7 minutes here (2 cores).
EOF
}
case ${1:-} in
-h | --help) usage; exit 0 ;;
--trixie) export SUITE=trixie ;;
"") ;;
*) usage >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
repo=$PWD
shared=$(cd .. && pwd)/shared
T=$shared/testbed/testbed.sh
NAME=onehub-fresh-ci
# Taken once, before cloning: a commit made meanwhile is not this run's.
full=$(git rev-parse HEAD)
sha=${full:0:7}
mkdir -p test-output
log=$repo/test-output/fresh-ci-$(date +%Y%m%d-%H%M%S).log
tmp=$(mktemp -d)
up=
cleanup() {
  [ -z "$up" ] || "$T" down "$NAME" >/dev/null 2>&1 || true
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
say() { echo "fresh-ci: $*" | tee -a "$log"; }

dirty=$(git status --porcelain | wc -l)
git clone -q "$repo" "$tmp/main"
git -C "$tmp/main" checkout -q --detach "$full"
[ "$dirty" -eq 0 ] || say "note: $dirty uncommitted change(s) here are NOT part of this run"

why=
if [ "$(id -u)" -ne 0 ]; then why="not root"
elif [ ! -f "$T" ]; then why="no $T"
else
  say "booting a fresh ${SUITE:-bookworm} container $NAME (debootstrap, ~1 min)"
  "$T" down "$NAME" >/dev/null 2>&1 || true
  up=1
  "$T" up "$NAME" 2>&1 | tee -a "$log" || why="testbed.sh up $NAME failed"
fi

rc=0
if [ -z "$why" ]; then
  debian=$([ "${SUITE:-bookworm}" = trixie ] && echo 13 || echo 12)
  mode="fresh Debian $debian container (systemd-nspawn, systemd as PID 1), clean clone of $sha, no deno, empty DENO_DIR, apt packages installed fresh; the testbed tests cannot nest (nspawn in nspawn) and are skipped inside"
  # This machine reaches the package registries through a TLS-inspecting proxy
  # whose CA it trusts: the container gets the same CAs (and NODE_EXTRA_CA_CERTS,
  # read by npm and deno), and any proxy settings. A real fresh VM needs none of it.
  pass=()
  for ca in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$ca" ] || continue
    "$T" cp "$NAME" "$ca" "$ca"
    pass=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
  done
  "$T" in "$NAME" update-ca-certificates >/dev/null 2>&1
  while IFS= read -r kv; do pass+=("$kv"); done < <(env | grep -iE '^(https?_proxy|no_proxy|all_proxy|npm_config_[a-z_]+)=' || true)
  # debootstrap writes no /etc/hosts entry for localhost; the Debian installer
  # and the cloud images do, so the container gets theirs.
  "$T" in "$NAME" bash -c 'grep -qw localhost /etc/hosts ||
    { printf "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"; cat /etc/hosts; } >/etc/hosts.new &&
    mv /etc/hosts.new /etc/hosts'
  "$T" cp "$NAME" "$tmp/main" /ci/main
  "$T" cp "$NAME" "$shared" /ci/shared
  "$T" in "$NAME" chmod -R a-w /ci/shared
  say "$mode"
  # ONEHUB_TESTBED names a missing script, so install_test and
  # systemd_spawner_test print "skipped" instead of failing to boot a testbed.
  "$T" in "$NAME" env CI=true ONEHUB_TESTBED=/ci/no-nested-testbed/testbed.sh "${pass[@]}" \
    bash -c 'cd /ci/main && exec bash .ci/run' </dev/null 2>&1 | tee -a "$log" || rc=${PIPESTATUS[0]}
else
  mode="NOT a fresh machine ($why): this host's deno and apt packages, clean clone of $sha in $tmp/main, empty DENO_DIR"
  say "$mode"
  [ ! -d "$shared" ] || { cp -a "$shared" "$tmp/shared" && chmod -R a-w "$tmp/shared"; }
  export DENO_DIR=$tmp/deno-dir
  (cd "$tmp/main" && CI=true bash .ci/run) </dev/null 2>&1 | tee -a "$log" || rc=${PIPESTATUS[0]}
fi

# run-tests.sh's closing line for the whole run, else the last deno test summary.
plain=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
summary=$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed$' <<<"$plain" | tail -1 ||
  grep -E '^(ok|FAILED) \| [0-9]+ passed' <<<"$plain" | tail -1 || true)
say "${summary:-no test summary line (stopped before or during the tests; see the log)}"
say "$mode"
say "exit code $rc after $((SECONDS / 60))m $((SECONDS % 60))s; log: ${log#"$repo"/}"
exit "$rc"
