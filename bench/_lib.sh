# Shared by bench/run.sh, bench/proxy.sh and bench/spawn.sh: their paths,
# prerequisites, the harness copy, logging and process bookkeeping. Only PIDs a script started itself (its STARTED array,
# or the step run by run_step) are ever signalled. Sourced, not run.

# bench_paths MARKER RAW_NAME WORK_PREFIX: sets what every bench script uses:
# REPO; SHARED_BENCH, the shared harness (../../shared/bench or SHARED_DIR,
# else /work/shared/bench; MARKER is a file it must hold); STAMP; RAW
# (.bench/RAW_NAME/<stamp>); RESULTS; WORK (a private temp dir, WORK_PREFIX)
# and B, the harness copy in it; RUNS (default 3) and DENO (default deno).
bench_paths() {
  REPO=$(cd "$(dirname "$0")/.." && pwd)
  SHARED_BENCH="${SHARED_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/shared}/bench"
  [ -f "$SHARED_BENCH/$1" ] || SHARED_BENCH=/work/shared/bench
  RUNS="${RUNS:-3}"
  DENO="${DENO:-deno}"
  STAMP=$(date +%Y%m%d-%H%M%S)
  RAW="$REPO/.bench/$2/$STAMP"
  RESULTS="$REPO/.bench/results"
  WORK=$(mktemp -d "/tmp/$3.XXXXXX")
  B="$WORK/bench"
}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

alive() { # running (a zombie counts as gone)
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
stop_pid() { # pid [timeout_s]
  local pid=$1 t=${2:-15} i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 50; i++)); do alive "$pid" || return 0; sleep 0.02; done
  log "pid $pid ignored SIGTERM for ${t}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}
descendants() { # pid -> every descendant pid, depth first
  local k
  for k in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$k"; descendants "$k"; done
}
kill_tree() { # pid: SIGTERM it and its descendants, SIGKILL what is left after 2 s
  local all q i
  all="$1 $(descendants "$1")"
  for q in $all; do kill -TERM "$q" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do
    local left=0
    for q in $all; do alive "$q" && left=1; done
    [ $left = 0 ] && return 0
    sleep 0.02
  done
  for q in $all; do alive "$q" && kill -KILL "$q" 2>/dev/null || true; done
}
# run_step TIMEOUT_S CMD...: runs a measurement step in the background and
# waits for it, so an INT/TERM to this script is handled at once (bash defers
# traps until a foreground child ends); the trap then stops the step's tree.
CHILD=""
run_step() {
  local t=$1 rc=0; shift
  timeout "$t" "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return $rc
}
# stop_started: the cleanup trap's common part: the running step's tree,
# then every PID in the script's STARTED array, newest first.
stop_started() {
  local i
  [ -z "$CHILD" ] || kill_tree "$CHILD"
  CHILD=""
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[$i]}"; done
  STARTED=()
}
need_commands() { # hint cmd...: die naming the first missing command (and the hint)
  local hint=$1 c; shift
  for c in "$@"; do command -v "$c" >/dev/null || die "$c missing$hint"; done
}
need_free_ports() { # port...: die when one is already listened on
  local p
  for p in "$@"; do
    if ss -ltnH "sport = :$p" | grep -q .; then die "port $p is in use (set PORT_BASE)"; fi
  done
}
copy_harness() { # the shared harness to $B, writable, no old raw results, npm packages installed
  log "harness: $SHARED_BENCH -> $B"
  cp -r "$SHARED_BENCH" "$B"
  chmod -R u+w "$B"
  rm -rf "$B/results/raw"
  run_step 300 env -C "$B" npm install --no-audit --no-fund --loglevel=error >/dev/null || die "npm install failed in $B"
}
onehub_command() { # timeout_s: cd to REPO (deno.json's import map), warm Deno's caches, set ONEHUB
  cd "$REPO"
  timeout "$1" "$DENO" run -A main.ts version >/dev/null || die "deno run -A main.ts version failed"
  ONEHUB=("$DENO" run -A "${ONEHUB_V8[@]}" "$REPO/main.ts")
}
write_versions() { # jq_filter [--arg name value]...: $RAW/versions.json from onehub, deno, node, kernel, cpus and these
  jq -n --arg onehub "$(timeout 60 "${ONEHUB[@]}" version 2>/dev/null | head -1)" \
    --arg deno "$("$DENO" --version | head -1)" --arg node "$(node --version)" \
    --arg kernel "$(uname -r)" --arg cpus "$(nproc)" "${@:2}" "$1" > "$RAW/versions.json"
}
round_start() { # dir: RD=dir, created, with the machine's load at the start of the round
  RD=$1; mkdir -p "$RD"
  snapshot_machine > "$RD/machine-start.json"
}
round_end() { # the machine's load at the end of the round in $RD, its logs gzipped
  snapshot_machine > "$RD/machine-end.json"
  gzip -f "$RD"/*.log 2>/dev/null || true
}
# with_summary_js <<'EOF' | node --input-type=module -: the node module on
# stdin, after the helpers every bench summary uses: fs, path, raw (env RAW),
# runsIn(dir) (its run<N> folders in order), readJson(...parts under raw)
# (null when unreadable), g(obj, "dotted.path"), num(v) (a finite number or
# null), median(values), writeTable(lines) (to env OUT_MD and stdout), and anchor (env ANCHOR_JSON's JSON, else null) with
# anc(label), the median of its first metric starting with label.
with_summary_js() {
  cat <<'JS'
import fs from "node:fs";
import path from "node:path";
const raw = process.env.RAW;
const runsIn = (dir) => fs.readdirSync(dir).filter((d) => /^run\d+$/.test(d)).sort((a, b) => a.slice(3) - b.slice(3));
const readJson = (...parts) => { try { return JSON.parse(fs.readFileSync(path.join(raw, ...parts), "utf8")); } catch { return null; } };
const g = (o, p) => p.split(".").reduce((a, k) => (a == null ? undefined : a[k]), o);
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const median = (vs) => {
  const s = vs.filter((v) => num(v) != null).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
let anchor = null;
try { anchor = JSON.parse(fs.readFileSync(process.env.ANCHOR_JSON, "utf8")); } catch { /* none */ }
const writeTable = (lines) => {
  const text = lines.join("\n") + "\n";
  fs.writeFileSync(process.env.OUT_MD, text);
  process.stdout.write(text);
};
const anc = (label) => { const m = anchor?.metrics?.find((x) => x.metric.startsWith(label)); return m ? m.median : null; };
JS
  cat
}
wait_200() { # url timeout_s [curl args...]
  local url=$1 t=$2 i; shift 2
  for ((i = 0; i < t * 20; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}
snapshot_machine() { # what else is eating the 2 cores
  jq -n --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg top "$(ps -eo pcpu,comm --sort=-pcpu | head -6 | tail -5 | awk '{$1=$1};1' | paste -sd ';')" \
    '{loadavg:$load, top_cpu:$top}'
}

# The V8 flags onehub ships with (deno.json's start task, install.sh's wrapper
# and tools/compile.sh use the same): a 2 MiB young generation halves the
# proxy's peak memory under load with no measured throughput cost; an old
# generation that grows by 25% instead of V8's default factor keeps the hub's
# peak under API load at ≈136 MiB instead of ≈199 for ≈5% of throughput
# (docs/benchmarks.md, issue 16).
ONEHUB_V8=(--v8-flags=--max-semi-space-size=2,--heap-growing-percent=25)
