#!/usr/bin/env bash
# Proxy benchmark (issue 3) with the shared harness (../shared/bench):
# onehub's proxy vs configurable-http-proxy (npm 5.3.0, from the harness's
# node_modules) vs straight to the backend fixture, in the same run.
#
#   bash bench/proxy.sh
#   RUNS=5 bash bench/proxy.sh
#
# One backend fixture (backend.mjs) serves every measurement. Each of RUNS
# rounds (default 3) runs back to back:
#   a. `onehub proxy` (deno run -A main.ts proxy) as a subprocess, route
#      /bench -> fixture added through its CHP-compatible REST API, then
#      proxy-bench.sh with PROXY_PIDS = that deno process;
#   b. a standalone configurable-http-proxy (node_modules/.bin, --log-level
#      warn as in the anchor), same route, same measurement, PROXY_PIDS = its
#      node process.
# proxy-bench.sh measures the proxy and the fixture directly, so every round
# has its own direct numbers (compare ratios: the machine is shared).
# Raw JSON: .bench/raw-proxy/<stamp>/{onehub,chp}/run<N>/proxy.json (+ machine
# load snapshots, logs); the harness's summarize.mjs writes the full tables
# (.bench/results/proxy-{onehub,chp}-<stamp>.md/.json) and the issue-3 table
# (.bench/results/proxy-<stamp>.md) is written and printed.
#
# Env: RUNS=3 PORT_BASE=19400 (uses +1 fixture, +10/+11 onehub, +12/+13 CHP)
#      DURATION=10 THREADS=2 CONNECTIONS=50 SEQ_SECONDS=5 WS_SOCKETS=50
#      WS_SECONDS=10 (proxy-bench.sh settings)  SHARED_DIR (folder holding
#      bench/; default ../../shared from here, then /work/shared)  DENO=deno
# Everything listens on 127.0.0.1; every step is bounded in time; the trap
# stops every process this script started (by PID).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

bench_paths proxy-bench.sh raw-proxy onehub-proxy-bench
PORT_BASE="${PORT_BASE:-19400}"
BACKEND_PORT=$((PORT_BASE + 1))
ONEHUB_PORT=$((PORT_BASE + 10)); ONEHUB_API_PORT=$((PORT_BASE + 11))
CHP_PORT=$((PORT_BASE + 12)); CHP_API_PORT=$((PORT_BASE + 13))
export DURATION="${DURATION:-10}" THREADS="${THREADS:-2}" CONNECTIONS="${CONNECTIONS:-50}" SEQ_SECONDS="${SEQ_SECONDS:-5}"
export WS_SOCKETS="${WS_SOCKETS:-50}" WS_SECONDS="${WS_SECONDS:-10}"
BACKEND_URL="http://127.0.0.1:$BACKEND_PORT"


# ---- process bookkeeping: only PIDs we started are ever signalled ----------
STARTED=()
forget_pid() { # drop a stopped pid from STARTED
  local keep=() p
  for p in "${STARTED[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  STARTED=("${keep[@]}")
}
cleanup() {
  stop_started
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

expect_comm() { # pid comm: the PID handed to the harness is that process itself
  local c
  c=$(cat "/proc/$1/comm" 2>/dev/null || true)
  [ "$c" = "$2" ] || die "pid $1 is \"$c\", expected $2"
  local kids
  kids=$(cat /proc/"$1"/task/*/children 2>/dev/null | tr -s ' \n' ' ' || true)
  [ -z "${kids// /}" ] || log "note: pid $1 ($2) has children ($kids); PROXY_PIDS counts $1 only"
}
add_route() { # api_port token: POST /api/routes/bench -> the fixture (201)
  local c i
  for ((i = 0; i < 100; i++)); do
    c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H "Authorization: token $2" \
      -d "{\"target\":\"$BACKEND_URL\"}" "http://127.0.0.1:$1/api/routes/bench" || true)
    [ "$c" = 201 ] && return 0
    sleep 0.1
  done
  die "could not add the route on API port $1 (last status $c)"
}
measure() { # name pid port rd: proxy-bench.sh through 127.0.0.1:port/bench
  local name=$1 pid=$2 port=$3 rd=$4
  wait_200 "http://127.0.0.1:$port/bench/small" 10 || die "$name does not relay /bench/small"
  log "$name pid $pid: proxy-bench.sh -> $rd/proxy.json"
  PROXY_URL="http://127.0.0.1:$port/bench" BACKEND_URL="$BACKEND_URL" PROXY_PIDS="$pid" \
    OUT="$rd/proxy.json" run_step 600 bash "$B/proxy-bench.sh" || log "proxy-bench failed for $name"
}

# ---- prerequisites ---------------------------------------------------------
need_commands " (apt-get install -y wrk jq)" wrk jq curl node npm ss "$DENO"
need_free_ports $BACKEND_PORT $ONEHUB_PORT $ONEHUB_API_PORT $CHP_PORT $CHP_API_PORT
copy_harness
CHP_CMD="$B/node_modules/.bin/configurable-http-proxy"
[ -x "$CHP_CMD" ] || die "configurable-http-proxy missing from $B/node_modules"
export BENCH_DIR="$B"

onehub_command 60

mkdir -p "$RAW/onehub" "$RAW/chp" "$RESULTS"
write_versions '{onehub:$onehub, configurable_http_proxy:$chp, deno:$deno, node:$node, wrk:$wrk, kernel:$kernel, cpus:$cpus}' \
  --arg chp "$(timeout 30 "$CHP_CMD" --version 2>/dev/null | head -1)" \
  --arg wrk "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
cp "$RAW/versions.json" "$RAW/onehub/versions.json"; cp "$RAW/versions.json" "$RAW/chp/versions.json"
log "results -> $RAW"

# ---- the fixture (one for every round) --------------------------------------
node "$B/backend.mjs" "$BACKEND_PORT" 127.0.0.1 > "$RAW/backend.log" 2>&1 &
BACKEND_PID=$!; STARTED+=("$BACKEND_PID")
wait_200 "$BACKEND_URL/health" 15 || die "backend did not start (see $RAW/backend.log)"
expect_comm "$BACKEND_PID" node
log "backend pid $BACKEND_PID on $BACKEND_URL"

for run in $(seq 1 "$RUNS"); do
  log "===== round $run/$RUNS ====="

  # ---- a. onehub proxy ------------------------------------------------------
  round_start "$RAW/onehub/run$run"
  TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # a simple command with & is exec'd by the forked subshell: $! is deno itself
  CONFIGPROXY_AUTH_TOKEN=$TOKEN "${ONEHUB[@]}" proxy --ip 127.0.0.1 --port "$ONEHUB_PORT" \
    --api-ip 127.0.0.1 --api-port "$ONEHUB_API_PORT" > "$RD/proxy.log" 2>&1 &
  PID=$!; STARTED+=("$PID")
  wait_200 "http://127.0.0.1:$ONEHUB_API_PORT/api/routes" 60 -H "Authorization: token $TOKEN" ||
    die "onehub proxy did not come up (see $RD/proxy.log)"
  grep -q "onehub proxy listening" "$RD/proxy.log" || log "note: no 'onehub proxy listening' line yet"
  expect_comm "$PID" deno
  add_route "$ONEHUB_API_PORT" "$TOKEN"
  measure onehub "$PID" "$ONEHUB_PORT" "$RD"
  stop_pid "$PID" 15; forget_pid "$PID"
  round_end

  # ---- b. configurable-http-proxy ------------------------------------------
  round_start "$RAW/chp/run$run"
  TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # .bin/configurable-http-proxy is a `#!/usr/bin/env node` script: env execs node in place
  CONFIGPROXY_AUTH_TOKEN=$TOKEN "$CHP_CMD" --ip 127.0.0.1 --port "$CHP_PORT" \
    --api-ip 127.0.0.1 --api-port "$CHP_API_PORT" --log-level warn > "$RD/chp.log" 2>&1 &
  PID=$!; STARTED+=("$PID")
  wait_200 "http://127.0.0.1:$CHP_API_PORT/api/routes" 60 -H "Authorization: token $TOKEN" ||
    die "configurable-http-proxy did not come up (see $RD/chp.log)"
  expect_comm "$PID" node
  add_route "$CHP_API_PORT" "$TOKEN"
  measure chp "$PID" "$CHP_PORT" "$RD"
  stop_pid "$PID" 15; forget_pid "$PID"
  round_end
done
stop_pid "$BACKEND_PID" 15; forget_pid "$BACKEND_PID"
gzip -f "$RAW"/*.log 2>/dev/null || true

# ---- summaries ---------------------------------------------------------------
node "$B/summarize.mjs" "$RAW/onehub" "$RESULTS/proxy-onehub-$STAMP" "onehub proxy vs direct (shared harness)" || log "summarize.mjs failed (onehub)"
node "$B/summarize.mjs" "$RAW/chp" "$RESULTS/proxy-chp-$STAMP" "configurable-http-proxy vs direct, same run (shared harness)" || log "summarize.mjs failed (chp)"

# issue-3 table: onehub vs CHP vs direct, medians of rounds
with_summary_js <<'EOF' | OUT_MD="$RESULTS/proxy-$STAMP.md" RAW="$RAW" CMD="RUNS=$RUNS bash bench/proxy.sh" \
  node --input-type=module -
const runsOf = (who) => runsIn(path.join(raw, who));
const load = readJson; // (who, run, file)
const div = (a, b) => (num(a) != null && num(b) ? a / b : null);
const runs = runsOf("onehub");
const R = runs.map((d) => ({ d, o: load("onehub", d, "proxy.json"), c: load("chp", d, "proxy.json"),
  o0: load("onehub", d, "machine-start.json"), c1: load("chp", d, "machine-end.json") }));
const f = (v, digits) => {
  if (num(v) == null) return "n/a";
  if (digits != null) return v.toFixed(digits);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString("en-US");
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
};
const kib = (v) => (num(v) == null ? null : v / 1024);
// each row: values per round for onehub (o), CHP (c), direct (d: the onehub pass's own direct numbers)
const rows = [];
const row = (name, unit, o, c, d, extra = {}) => {
  const ov = R.map((r) => num(o(r))), cv = R.map((r) => num(c(r))), dv = R.map((r) => (d ? num(d(r)) : null));
  rows.push({ name, unit, o: median(ov), c: median(cv), d: median(dv), ov, cv, dv, ...extra });
};
// a row of one metric: onehub's and CHP's `${base}.proxy.${leaf}`, the onehub pass's `${base}.direct.${leaf}`
const metric = (name, unit, base, leaf) =>
  row(name, unit, (r) => g(r.o, `${base}.proxy.${leaf}`), (r) => g(r.c, `${base}.proxy.${leaf}`), (r) => g(r.o, `${base}.direct.${leaf}`));
// the medians of one per-round figure for onehub (o<what>) and CHP (c<what>), kept on a row
const perSide = (target, what, path) => {
  target[`o${what}`] = median(R.map((r) => g(r.o, path)));
  target[`c${what}`] = median(R.map((r) => g(r.c, path)));
};
metric("GET /small (1 KiB) req/s, wrk c=50", "req/s", "http.small", "req_per_s");
const small = rows.at(-1);
small.vsChp = median(R.map((r) => div(g(r.o, "http.small.proxy.req_per_s"), g(r.c, "http.small.proxy.req_per_s"))));
perSide(small, "Ratio", "http.small.rps_ratio_proxy_over_direct");
metric("GET /small sequential p50 (1 connection)", "µs", "http.small_sequential", "latency_us.p50");
const seq = rows.at(-1);
perSide(seq, "Added", "http.small_sequential.added_p50_us");
metric("GET /large (1 MiB) req/s, wrk c=50", "req/s", "http.large", "req_per_s");
const large = rows.at(-1);
perSide(large, "Ratio", "http.large.rps_ratio_proxy_over_direct");
metric("WS echo, 50 sockets x 10 s, msg/s", "msg/s", "ws.conc", "msgs_per_s");
const ws = rows.at(-1);
perSide(ws, "Ratio", "ws.conc.msgs_ratio_proxy_over_direct");
row("peak RSS under load", "MiB", (r) => kib(g(r.o, "proxy_rss_kib.peak_under_load")), (r) => kib(g(r.c, "proxy_rss_kib.peak_under_load")), null);
const peak = rows.at(-1);
row("idle RSS (fresh, 1 route)", "MiB", (r) => kib(g(r.o, "proxy_rss_kib.idle")), (r) => kib(g(r.c, "proxy_rss_kib.idle")), null);
metric("slow stream (10 x 1 KiB, 20 ms apart) TTFB p50", "ms", "stream.slow", "ttfb_ms.p50");
metric("slow stream total p50 (ideal ≈ 200)", "ms", "stream.slow", "total_ms.p50");
metric("bulk stream (64 MiB chunked) rate p50", "MiB/s", "stream.bulk", "mib_per_s.p50");
const bulk = rows.at(-1);
perSide(bulk, "Ratio", "stream.bulk.rate_ratio_proxy_over_direct");
metric("WS echo 1 socket RTT p50", "µs", "ws.seq", "rtt_us.p50");
metric("GET /small wrk p50", "ms", "http.small", "p50_ms");
metric("GET /small wrk p99 (CO-corrected)", "ms", "http.small", "p99_ms");
const errs = (e) => (e ? e.connect + e.read + e.write + e.status + e.timeout : null);
const errs2 = (p) => { const a = errs(g(p, "http.small.proxy.errors")), b = errs(g(p, "http.large.proxy.errors")); return num(a) != null && num(b) != null ? a + b : null; };
row("wrk errors via proxy (/small + /large)", "count", (r) => errs2(r.o), (r) => errs2(r.c), null);

const yn = (ok) => (ok == null ? "n/a" : ok ? "yes" : "**no**");
const T = [];
T.push(`| metric | onehub (median of ${R.length}) | CHP (median, same run) | direct (median) | target | met? |`, "| --- | ---: | ---: | ---: | --- | --- |");
const per = (vs) => vs.map((v) => f(v)).join(" / ");
T.push(`| 1 KiB GET throughput (wrk c=50) | ${f(small.o)} req/s (${per(small.ov)}); ${f(small.vsChp, 2)}× CHP, ${f(small.oRatio, 3)} of direct | ${f(small.c)} req/s (${f(small.cRatio, 3)} of direct) | ${f(small.d)} req/s | ≥ 3× CHP and ≥ 0.35 of direct | ${yn(small.vsChp == null || small.oRatio == null ? null : small.vsChp >= 3 && small.oRatio >= 0.35)} (${f(small.vsChp, 2)}×, ${f(small.oRatio, 3)}) |`);
T.push(`| added latency p50 (sequential GET /small, proxy p50 − direct p50) | ${f(seq.oAdded)} µs (p50 ${f(seq.o)} µs) | ${f(seq.cAdded)} µs (p50 ${f(seq.c)} µs) | p50 ${f(seq.d)} µs | ≤ 100 µs | ${yn(seq.oAdded == null ? null : seq.oAdded <= 100)} |`);
T.push(`| 1 MiB GET throughput ratio to direct | ${f(large.oRatio, 3)} (${f(large.o)} req/s) | ${f(large.cRatio, 3)} (${f(large.c)} req/s) | ${f(large.d)} req/s | ≥ 0.5 | ${yn(large.oRatio == null ? null : large.oRatio >= 0.5)} |`);
T.push(`| WebSocket echo, 50 sockets, msg/s ratio to direct | ${f(ws.oRatio, 3)} (${f(ws.o)} msg/s) | ${f(ws.cRatio, 3)} (${f(ws.c)} msg/s) | ${f(ws.d)} msg/s | ≥ 0.8 | ${yn(ws.oRatio == null ? null : ws.oRatio >= 0.8)} |`);
T.push(`| peak RSS under load | ${f(peak.o)} MiB (${per(peak.ov)}) | ${f(peak.c)} MiB | — | ≤ 80 MiB | ${yn(peak.o == null ? null : peak.o <= 80)} |`);
const idle = rows.find((r) => r.name.startsWith("idle RSS"));
T.push(`| idle RSS (fresh, 1 route) | ${f(idle.o)} MiB | ${f(idle.c)} MiB | — | — | — |`);
const ttfb = rows.find((r) => r.name.startsWith("slow stream (10"));
T.push(`| slow stream TTFB p50 (10 × 1 KiB, 20 ms apart) | ${f(ttfb.o)} ms | ${f(ttfb.c)} ms | ${f(ttfb.d)} ms | — | — |`);
T.push(`| bulk stream rate p50 (64 MiB chunked, 1 client) | ${f(bulk.o)} MiB/s (${f(bulk.oRatio, 3)} of direct) | ${f(bulk.c)} MiB/s (${f(bulk.cRatio, 3)}) | ${f(bulk.d)} MiB/s | — | — |`);
const L = [];
L.push("# onehub proxy benchmark (issue 3)", "");
L.push(`Generated ${new Date().toISOString()} by \`${process.env.CMD}\` from \`${raw}\`; ${R.length} round(s), each onehub then CHP back to back against one fixture; medians of rounds (ratios: median of each round's paired ratio). "direct" = the fixture measured in the onehub pass of the same round.`, "");
L.push(...T, "");
L.push("| other (per round values: onehub / CHP / direct) | onehub | CHP | direct |", "| --- | --- | --- | --- |");
for (const r of rows) L.push(`| ${r.name} (${r.unit}) | ${f(r.o)} (${per(r.ov)}) | ${f(r.c)} (${per(r.cv)}) | ${f(r.d)} (${per(r.dv)}) |`);
L.push("", "Load average at the start of each round (onehub pass) → end (CHP pass):", "");
for (const r of R) L.push(`- ${r.d}: ${r.o0?.loadavg ?? "?"} → ${r.c1?.loadavg ?? "?"}; busiest at start: ${r.o0?.top_cpu ?? "?"}`);
writeTable(L);
EOF
log "done: $RESULTS/proxy-$STAMP.md, $RESULTS/proxy-{onehub,chp}-$STAMP.md (raw: $RAW)"
