#!/usr/bin/env bash
# Hub benchmark (issue 2) with the shared harness (../shared/bench).
# (The proxy benchmark, issue 3, onehub vs configurable-http-proxy: bench/proxy.sh.)
#
#   deno task bench            # = bash bench/run.sh
#   RUNS=5 bash bench/run.sh
#
# For each of RUNS runs (default 3):
#   1. cold start: hub-coldstart.mjs launches `onehub serve` COLD_ITER times
#      (default 3), each on a fresh, empty data dir (PREPARE_CMD), and times
#      launch -> GET /hub/health 200, idle RSS 2 s later, SIGTERM -> exit;
#   2. a hub started once on a fresh data dir with an admin token:
#      hub-api-bench.sh with N_USERS=100 (POST 100 users, GET /hub/api/users
#      and /hub/api/users/<name> sequentially and under wrk -c50, hub RSS).
# Raw JSON goes to .bench/raw/<stamp>/run<N>/; the harness's summarize.mjs
# writes the full table (.bench/results/onehub-<stamp>.md/.json) and a short
# issue-2 table against the JupyterHub 3.0 anchor is written to
# .bench/results/hub-<stamp>.md and printed.
#
# Env: RUNS=3 COLD_ITER=3 N_USERS=100 PORT_BASE=18900 (uses +20 .. +23)
#      DURATION=10 THREADS=2 CONNECTIONS=50 SEQ_SECONDS=5 (wrk / sequential)
#      SHARED_DIR (folder holding bench/; default ../../shared from here,
#      then /work/shared)  DENO=deno
# Everything listens on 127.0.0.1; every step is bounded in time; the trap
# stops every process this script started (by PID).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

bench_paths hub-api-bench.sh raw onehub-bench
COLD_ITER="${COLD_ITER:-3}"
N_USERS="${N_USERS:-100}"
PORT_BASE="${PORT_BASE:-18900}"
API_PORT=$((PORT_BASE + 20))       # public port (the built-in proxy, when serve has one)
COLD_PORT=$((PORT_BASE + 21))
API_HUB_PORT=$((PORT_BASE + 22))   # the hub's own port (--hub-port), when serve has one
COLD_HUB_PORT=$((PORT_BASE + 23))
export DURATION="${DURATION:-10}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-50}" SEQ_SECONDS="${SEQ_SECONDS:-5}"


# ---- process bookkeeping: only PIDs we started are ever signalled ----------
STARTED=()
# hubs launched by hub-coldstart.mjs (it kills them itself; this only matters
# if it was interrupted): they are the processes whose command line holds our
# own private temp dir, so they are ours.
leftover_hubs() {
  local d p
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = $$ ] && continue
    if { tr '\0' ' ' < "$d/cmdline"; } 2>/dev/null | grep -qF -- "--data-dir $WORK/"; then
      log "leftover hub $p"; stop_pid "$p" 5
    fi
  done
}
cleanup() {
  stop_started
  leftover_hubs
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---- prerequisites ---------------------------------------------------------
need_commands " (apt-get install -y wrk jq)" wrk jq curl node npm ss "$DENO"
need_free_ports $API_PORT $COLD_PORT $API_HUB_PORT $COLD_HUB_PORT
copy_harness
export BENCH_DIR="$B"

# warm Deno's module and code cache so cold start measures the hub, not downloads
onehub_command 60
# serve with a built-in proxy has a second, loopback hub port: pin it (default
# 8081 could be taken) and poll it too, as the anchor polls the hub behind CHP
COLD_HUB_ARGS=""; API_HUB_ARGS=(); COLD_HEALTH="http://127.0.0.1:$COLD_PORT/hub/health"
if timeout 60 "${ONEHUB[@]}" serve --help 2>/dev/null | grep -q -- '--hub-port'; then
  COLD_HUB_ARGS="--hub-port $COLD_HUB_PORT"; API_HUB_ARGS=(--hub-port "$API_HUB_PORT")
  COLD_HEALTH="$COLD_HEALTH http://127.0.0.1:$COLD_HUB_PORT/hub/health"
fi

mkdir -p "$RAW" "$RESULTS"
write_versions '{onehub:$onehub, deno:$deno, node:$node, wrk:$wrk, kernel:$kernel, cpus:$cpus}' \
  --arg wrk "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
log "results -> $RAW"

for run in $(seq 1 "$RUNS"); do
  log "===== run $run/$RUNS ====="
  round_start "$RAW/run$run"

  # ---- 1. cold start: fresh data dir every launch ----------------------------
  COLD_DIR="$WORK/cold-data"
  START_CMD="${ONEHUB[*]} serve --auth dummy --ip 127.0.0.1 --port $COLD_PORT $COLD_HUB_ARGS --data-dir $COLD_DIR/ --config /dev/null" \
    PREPARE_CMD="rm -rf $COLD_DIR && mkdir -p $COLD_DIR" \
    HEALTH_URLS="$COLD_HEALTH" \
    ITER="$COLD_ITER" LOG_DIR="$RD" OUT="$RD/coldstart.json" \
    run_step 300 node "$B/hub-coldstart.mjs" || log "coldstart failed"
  leftover_hubs

  # ---- 2. hub API: one hub, fresh data dir, admin token ---------------------
  HUB_DIR="$WORK/hub-data-$run"; mkdir -p "$HUB_DIR"
  CFG="$WORK/hub-$run.yaml"; printf 'data_dir: %s\n' "$HUB_DIR" > "$CFG"
  timeout 60 "${ONEHUB[@]}" user add benchadmin --admin --config "$CFG" >/dev/null || die "user add failed"
  TOKEN=$(timeout 60 "${ONEHUB[@]}" token benchadmin --config "$CFG") || die "token failed"
  [ -n "$TOKEN" ] || die "empty token"
  # a simple command with & is exec'd by the forked subshell: $! is deno itself
  "${ONEHUB[@]}" serve --auth dummy --ip 127.0.0.1 --port "$API_PORT" "${API_HUB_ARGS[@]}" --data-dir "$HUB_DIR/" --config /dev/null \
    > "$RD/hub.log" 2>&1 &
  HUB_PID=$!; STARTED+=("$HUB_PID")
  wait_200 "http://127.0.0.1:$API_PORT/hub/health" 60 || die "hub did not come up (see $RD/hub.log)"
  [ "$(cat "/proc/$HUB_PID/comm" 2>/dev/null)" = deno ] || die "pid $HUB_PID is not the deno process ($(cat "/proc/$HUB_PID/comm" 2>/dev/null))"
  kids=$(cat "/proc/$HUB_PID/task/$HUB_PID/children" 2>/dev/null || true)
  [ -z "${kids// /}" ] || log "note: hub pid $HUB_PID has children ($kids); HUB_PIDS counts the deno process only"
  log "hub pid $HUB_PID (deno), data dir $HUB_DIR"
  HUB_URL="http://127.0.0.1:$API_PORT" TOKEN="$TOKEN" HUB_PIDS="$HUB_PID" N_USERS="$N_USERS" \
    OUT="$RD/hub-api.json" run_step 600 bash "$B/hub-api-bench.sh" || log "hub-api-bench failed"
  t0=$(date +%s%3N); stop_pid "$HUB_PID" 30; STARTED=()
  jq -n --argjson ms $(( $(date +%s%3N) - t0 )) '{hub_stop_ms:$ms}' > "$RD/hub-stop.json"
  round_end
done

# ---- summaries ---------------------------------------------------------------
# full table (labels are the anchor's; "hub process only" rows look for python3 and show n/a)
node "$B/summarize.mjs" "$RAW" "$RESULTS/onehub-$STAMP" "onehub hub benchmark (shared harness)" || log "summarize.mjs failed"

# issue-2 table: onehub median of runs vs the JupyterHub 3.0 anchor
ANCHOR_JSON=$(ls "$SHARED_BENCH"/results/anchor-*.json 2>/dev/null | sort | tail -1 || true)
with_summary_js <<'EOF' | OUT_MD="$RESULTS/hub-$STAMP.md" RAW="$RAW" ANCHOR_JSON="$ANCHOR_JSON" CMD="RUNS=$RUNS deno task bench" \
  node --input-type=module -
const runs = runsIn(raw);
const load = readJson; // (run, file)
const errs = (e) => (e ? e.connect + e.read + e.write + e.status + e.timeout : null);
const R = runs.map((d) => ({ d, cold: load(d, "coldstart.json"), api: load(d, "hub-api.json"), m0: load(d, "machine-start.json"), m1: load(d, "machine-end.json") }));
const rows = [
  { name: "GET /hub/api/users (100 users) req/s, wrk c=50", unit: "req/s", v: (r) => g(r.api, "wrk.users_list.req_per_s"),
    anchor: anc("GET /hub/api/users (all users), wrk 50 connections: throughput"), target: 2000, dir: ">=" },
  { name: "GET /hub/api/users/<name> req/s, wrk c=50", unit: "req/s", v: (r) => g(r.api, "wrk.user_one.req_per_s"),
    anchor: anc("GET /hub/api/users/<name>, wrk 50 connections: throughput"), target: 5000, dir: ">=" },
  { name: "cold start: launch → public /hub/health 200 (fresh data dir)", unit: "ms", v: (r) => g(r.cold, "summary.ready_ms.0.p50"),
    anchor: anc("Cold start: launch → public /hub/health 200"), target: 150, dir: "<=" },
  { name: "cold start: launch → hub-port /hub/health 200 (when serve has --hub-port)", unit: "ms", v: (r) => g(r.cold, "summary.ready_ms.1.p50"),
    anchor: anc("Cold start: launch → hub-port /hub/health 200"), target: 150, dir: "<=" },
  { name: "idle RSS, 2 s after ready (cold-start launches)", unit: "MiB", v: (r) => (num(g(r.cold, "summary.idle_rss_kib.p50")) ?? NaN) / 1024,
    anchor: anc("Idle RSS after start (hub + CHP)"), target: 60, dir: "<=" },
  { name: "idle RSS before the API bench, 0 users (hub-api-bench)", unit: "MiB", v: (r) => (num(g(r.api, "hub_rss_kib.idle.total_kib")) ?? NaN) / 1024,
    anchor: anc("Hub RSS idle (hub + CHP), 0 users"), target: 60, dir: "<=" },
];
const extra = [
  ["GET /hub/api/users, non-2xx/socket errors under wrk", (r) => errs(g(r.api, "wrk.users_list.errors"))],
  ["GET /hub/api/users/<name>, non-2xx/socket errors under wrk", (r) => errs(g(r.api, "wrk.user_one.errors"))],
  ["GET /hub/api/users, wrk p50 ms", (r) => g(r.api, "wrk.users_list.p50_ms")],
  ["GET /hub/api/users/<name>, wrk p50 ms", (r) => g(r.api, "wrk.user_one.p50_ms")],
  ["GET /hub/api/users, sequential p50 ms", (r) => (g(r.api, "sequential.users_list.latency_us.p50") ?? NaN) / 1000],
  ["GET /hub/api/users/<name>, sequential p50 ms", (r) => (g(r.api, "sequential.user_one.latency_us.p50") ?? NaN) / 1000],
  ["GET /hub/api/ (no auth), wrk req/s", (r) => g(r.api, "wrk.api_root.req_per_s")],
  ["POST /hub/api/users with 100 names, ms", (r) => g(r.api, "create_users.ms")],
  ["users in GET /hub/api/users answer", (r) => g(r.api, "users_in_list")],
  ["GET /hub/api/users answer size, bytes", (r) => g(r.api, "users_list_bytes")],
  ["RSS with 100 users, MiB", (r) => (g(r.api, "hub_rss_kib.with_users.total_kib") ?? NaN) / 1024],
  ["RSS peak under API load, MiB", (r) => (g(r.api, "hub_rss_kib.peak_under_load") ?? NaN) / 1024],
  ["shutdown SIGTERM → exit (cold-start launches), ms", (r) => g(r.cold, "summary.stop_ms.p50")],
];
const f = (v) => (num(v) == null ? "n/a" : Number.isInteger(v) ? v.toLocaleString("en-US") : Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US") : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const L = [];
L.push(`# onehub hub benchmark (issue 2)`, "");
L.push(`Generated ${new Date().toISOString()} by \`${process.env.CMD}\` from \`${raw}\`; ${R.length} run(s), median of runs (cold start: median of each run's launches).`, "");
L.push("| metric | onehub (median of runs) | runs | JupyterHub 3.0 anchor | target | met? |", "| --- | ---: | --- | ---: | ---: | --- |");
for (const row of rows) {
  const vals = R.map(row.v).map((v) => (num(v) == null ? null : v));
  const m = median(vals);
  let met = "n/a";
  if (m != null) {
    const ok = row.dir === ">=" ? m >= row.target : m <= row.target;
    const by = row.dir === ">=" ? (row.target - m) / row.target : (m - row.target) / row.target;
    met = ok ? "yes" : `no (${row.dir === ">=" ? "short" : "over"} by ${f(Math.abs(m - row.target))} ${row.unit}, ${(by * 100).toFixed(0)}%)`;
  }
  L.push(`| ${row.name} | ${f(m)} ${row.unit} | ${vals.map(f).join(" / ")} | ${f(row.anchor)} ${row.unit} | ${row.dir === ">=" ? "≥" : "≤"} ${row.target.toLocaleString("en-US")} ${row.unit} | ${met} |`);
}
L.push("", "| other | median | runs |", "| --- | ---: | --- |");
for (const [name, fn] of extra) { const vals = R.map(fn); L.push(`| ${name} | ${f(median(vals))} | ${vals.map(f).join(" / ")} |`); }
L.push("", "Load average at start → end of each run:", "");
for (const r of R) L.push(`- ${r.d}: ${r.m0?.loadavg ?? "?"} → ${r.m1?.loadavg ?? "?"}; busiest at start: ${r.m0?.top_cpu ?? "?"}`);
writeTable(L);
EOF
log "done: $RESULTS/hub-$STAMP.md, $RESULTS/onehub-$STAMP.md (raw: $RAW)"
