#!/usr/bin/env bash
# Spawn benchmark (issue 4) with the shared harness (../shared/bench):
# real jupyterhub-singleuser servers started by `onehub serve` with the local
# spawner (setpriv as the Linux user named like the hub user).
#
#   bash bench/spawn.sh             # as root (useradd, setpriv)
#   RUNS=5 bash bench/spawn.sh
#
# 1. Linux users bench01..bench10 are created (`useradd -m`) unless they
#    exist; users this script created are removed again (`userdel -r`) at the
#    end, users that existed before are left alone.
# 2. Each of RUNS rounds (default 3) starts a fresh hub: new data dir, config
#      data_dir, auth {type: dummy}, users {allow_all: true}, spawner {http_timeout: 120}
#    an admin token (`onehub user add benchadmin --admin`, `onehub token`),
#    `serve --port 0 --hub-port 0` (free loopback ports, read back from the
#    hub's "listening" log line), then:
#      a. DIRECT_BEFORE (default 3) direct launches of jupyterhub-singleuser
#         (see 3.), after DIRECT_WARMUP (default 1) uncounted ones in round 1;
#      b. spawn-bench.mjs with SINGLE_REPEAT=3 CONCURRENT_REPEAT=1
#         HUB_PIDS=<the deno process> USER_RSS=1: 1 user (bench01) three
#         times, then bench01..bench10 at once, each followed by a stop;
#      c. login-bench.mjs VARIANTS=warm COUNT=LOGIN_COUNT (default 5): the login
#         flow of bench01 with its server running, GET /hub/login → notebook 200;
#      d. DIRECT_AFTER (default 3) more direct launches;
#    then the hub is stopped (SIGTERM, timed) and its log copied.
# 3. "The server's own time to listen", measured without the hub:
#    /usr/bin/jupyterhub-singleuser run as bench01 through
#    `setpriv --reuid --regid --init-groups` in a clean environment holding the
#    JUPYTERHUB_* variables the hub would set (same names and values as
#    hub/servers/single_user_env.ts, a made-up API token), JUPYTERHUB_API_URL pointing
#    at the running hub (the server checks the hub's version before it
#    listens); timed from spawn() to the first answer below 500 from
#    http://127.0.0.1:<port>/user/bench01/api, polled every 10 ms; then
#    SIGTERM to its process group and the time to exit.
# Hub overhead per spawn = spawn-bench's 1-user POST -> servers[""].ready
# minus the direct time to listen (medians). The hub log's "server.ready" events
# give prepare_ms / listen_ms / total_ms for every spawn.
#
# Output: .bench/raw-spawn/<stamp>/run<N>/{spawn.json,direct.json,hub.log.gz,
# hub-stop.json,machine-*.json}; the issue-4 table .bench/results/spawn-<stamp>.md
# (also printed).
#
# Env: RUNS=3 DIRECT_WARMUP=1 DIRECT_BEFORE=3 DIRECT_AFTER=3 SINGLE_REPEAT=3 CONCURRENT_REPEAT=1 LOGIN_COUNT=5
#      SINGLE_USER_CMD=/usr/bin/jupyterhub-singleuser
#      SHARED_DIR (folder holding bench/; default ../../shared from here, then
#      /work/shared)  DENO=deno
# Everything listens on 127.0.0.1; every step is bounded in time; the trap
# stops every process this script started (by PID) and whatever the bench
# users still run (`pkill -u benchNN`).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

bench_paths spawn-bench.mjs raw-spawn onehub-spawn-bench
DIRECT_BEFORE="${DIRECT_BEFORE:-3}"
DIRECT_AFTER="${DIRECT_AFTER:-3}"
DIRECT_WARMUP="${DIRECT_WARMUP:-1}"
SINGLE_REPEAT="${SINGLE_REPEAT:-3}"
CONCURRENT_REPEAT="${CONCURRENT_REPEAT:-1}"
LOGIN_COUNT="${LOGIN_COUNT:-5}"
SINGLE_USER_CMD="${SINGLE_USER_CMD:-/usr/bin/jupyterhub-singleuser}"
USERS=(bench01 bench02 bench03 bench04 bench05 bench06 bench07 bench08 bench09 bench10)


# ---- process bookkeeping: only PIDs we started are ever signalled ----------
STARTED=()
CREATED_USERS=()
user_leftovers() { # stop whatever the bench users still run (servers outlive the hub by design)
  local u i n
  for u in "${USERS[@]}"; do
    id -u "$u" >/dev/null 2>&1 || continue
    pgrep -u "$u" >/dev/null 2>&1 || continue
    n=$(pgrep -c -u "$u" || true)
    log "leftover: $n process(es) of $u: SIGTERM"
    pkill -TERM -u "$u" 2>/dev/null || true
    for ((i = 0; i < 250; i++)); do pgrep -u "$u" >/dev/null 2>&1 || break; sleep 0.02; done
    if pgrep -u "$u" >/dev/null 2>&1; then
      log "leftover processes of $u after 5 s: SIGKILL"
      pkill -KILL -u "$u" 2>/dev/null || true
      sleep 0.2
    fi
  done
}
cleanup() {
  local u
  stop_started
  user_leftovers
  for u in "${CREATED_USERS[@]}"; do
    log "userdel -r $u (created by this script)"
    userdel -r "$u" 2>/dev/null || log "userdel -r $u failed"
  done
  CREATED_USERS=()
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---- prerequisites ---------------------------------------------------------
[ "$(id -u)" = 0 ] || die "run as root (useradd, setpriv)"
need_commands "" jq curl node npm setpriv useradd userdel pgrep pkill "$DENO"
[ -x "$SINGLE_USER_CMD" ] || die "$SINGLE_USER_CMD missing (apt-get install -y jupyterhub)"

# ---- Linux users -------------------------------------------------------------
for u in "${USERS[@]}"; do
  if id -u "$u" >/dev/null 2>&1; then
    log "user $u exists: kept after the run"
  else
    useradd -m "$u" || die "useradd -m $u failed"
    CREATED_USERS+=("$u")
  fi
done
[ ${#CREATED_USERS[@]} = 0 ] || log "created Linux users: ${CREATED_USERS[*]} (removed at the end)"
user_leftovers # a server left over from an earlier run would hold the user's state

# ---- harness copy --------------------------------------------------------------
copy_harness

# ---- direct launch of the single-user server (no hub in between) --------------
cat > "$WORK/direct-listen.mjs" <<'EOF'
// Times jupyterhub-singleuser alone: spawn() -> first answer < 500 from
// http://127.0.0.1:<port><prefix>api (every 10 ms), then SIGTERM -> exit.
// Env: SU_USER SU_UID SU_GID SU_HOME SU_SHELL HUB_API_URL CMD COUNT LOG OUT
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";

const e = process.env;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.once("error", reject);
  s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const py = (items) => `[${items.map((s) => JSON.stringify(s)).join(", ")}]`;

async function once(i) {
  const user = e.SU_USER, port = await freePort();
  const prefix = `/user/${user}/`;
  const scopes = py([`access:servers!server=${user}/`, `access:servers!user=${user}`]);
  const token = `direct-bench-not-a-valid-token-${i}`;
  // what hub/servers/single_user_env.ts builds for the default server (token made up)
  const env = {
    JUPYTERHUB_API_TOKEN: token, JPY_API_TOKEN: token,
    JUPYTERHUB_CLIENT_ID: `jupyterhub-user-${user}`,
    JUPYTERHUB_HOST: "",
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: scopes, JUPYTERHUB_OAUTH_SCOPES: scopes,
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: "[]",
    JUPYTERHUB_USER: user, JUPYTERHUB_SERVER_NAME: "",
    JUPYTERHUB_API_URL: e.HUB_API_URL,
    JUPYTERHUB_ACTIVITY_URL: `${e.HUB_API_URL}/users/${user}/activity`,
    JUPYTERHUB_BASE_URL: "/",
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}${prefix}`,
    JUPYTERHUB_PUBLIC_URL: "",
    USER: user, HOME: e.SU_HOME, SHELL: e.SU_SHELL,
    PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8",
  };
  const out = fs.openSync(e.LOG, "a");
  const url = `http://127.0.0.1:${port}${prefix}api`;
  const r = { i, port };
  let exited = null;
  const t0 = now();
  const child = spawn("setpriv", ["--reuid", e.SU_UID, "--regid", e.SU_GID, "--init-groups", "--", e.CMD], {
    env, cwd: e.SU_HOME, detached: true, stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  const exitP = new Promise((resolve) => child.once("exit", (code, sig) => { exited = now(); resolve({ code, sig }); }));
  r.spawn_call_ms = +(now() - t0).toFixed(1);
  let polls = 0;
  while (now() - t0 < 120000 && exited === null) {
    polls++;
    try {
      const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status < 500) { r.listen_ms = +(now() - t0).toFixed(1); r.status = res.status; break; }
    } catch { /* not listening yet */ }
    await sleep(10);
  }
  r.polls = polls;
  if (r.listen_ms == null) r.error = exited !== null ? "exited before answering" : "no answer in 120 s";
  const ts = now();
  try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ }
  const done = await Promise.race([exitP, sleep(10000).then(() => null)]);
  if (done === null) { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } await exitP; r.killed = true; }
  r.stop_ms = +(now() - ts).toFixed(1);
  return r;
}

const results = [];
for (let i = 0; i < Number(e.COUNT || 3); i++) {
  const r = await once(i);
  console.error(`  direct ${i + 1}: listen ${r.listen_ms ?? r.error} ms, stop ${r.stop_ms} ms`);
  results.push(r);
  await sleep(500);
}
let prev = [];
try { prev = JSON.parse(fs.readFileSync(e.OUT, "utf8")).results; } catch { /* first batch */ }
fs.writeFileSync(e.OUT, JSON.stringify({ bench: "direct-listen", cmd: e.CMD, user: e.SU_USER, results: prev.concat(results) }, null, 1) + "\n");
EOF

direct_batch() { # phase count hub_api_url out
  local u=${USERS[0]} pw
  pw=$(getent passwd "$u")
  SU_USER=$u SU_UID=$(cut -d: -f3 <<<"$pw") SU_GID=$(cut -d: -f4 <<<"$pw") \
    SU_HOME=$(cut -d: -f6 <<<"$pw") SU_SHELL=$(cut -d: -f7 <<<"$pw") \
    HUB_API_URL="$3" CMD="$SINGLE_USER_CMD" COUNT="$2" LOG="$RD/direct-server.log" OUT="$4" \
    run_step 600 node "$WORK/direct-listen.mjs" || log "direct launches ($1) failed"
}

onehub_command 120

mkdir -p "$RAW" "$RESULTS"
write_versions '{onehub:$onehub, deno:$deno, node:$node, singleuser:$singleuser, kernel:$kernel, cpus:$cpus}' \
  --arg singleuser "$(/usr/bin/python3 -c 'import jupyterhub, jupyter_server; print("jupyterhub", jupyterhub.__version__, "jupyter_server", jupyter_server.__version__)' 2>/dev/null || echo '?')"
log "results -> $RAW"

for run in $(seq 1 "$RUNS"); do
  log "===== run $run/$RUNS ====="
  round_start "$RAW/run$run"
  HUB_DIR="$WORK/hub-data-$run"; mkdir -p "$HUB_DIR"
  CFG="$WORK/hub-$run.yaml"
  printf 'data_dir: %s\nauth: {type: dummy}\nusers: {allow_all: true}\nspawner: {http_timeout: 120}\n' "$HUB_DIR" > "$CFG"
  timeout 60 "${ONEHUB[@]}" user add benchadmin --admin --config "$CFG" >/dev/null || die "user add failed"
  TOKEN=$(timeout 60 "${ONEHUB[@]}" token benchadmin --config "$CFG") || die "token failed"
  [ -n "$TOKEN" ] || die "empty token"
  # a simple command with & is exec'd by the forked subshell: $! is deno itself
  "${ONEHUB[@]}" serve --config "$CFG" --ip 127.0.0.1 --port 0 --hub-port 0 > "$RD/hub.log" 2>&1 &
  HUB_PID=$!; STARTED+=("$HUB_PID")
  line=""
  for ((i = 0; i < 1500; i++)); do
    line=$(grep -m1 ' listening ' "$RD/hub.log" || true)
    [ -n "$line" ] && break
    alive "$HUB_PID" || die "hub exited: $(tail -5 "$RD/hub.log")"
    sleep 0.02
  done
  [ -n "$line" ] || die "no 'listening' line from the hub in 30 s (see $RD/hub.log)"
  HUB_URL=$(sed -E 's/.* url=(http:[^ ]*[0-9]).*/\1/' <<<"$line")
  HUB_INTERNAL=$(sed -E 's/.* hub=(http:[^ ]*[0-9]).*/\1/' <<<"$line")
  wait_200 "$HUB_URL/hub/health" 60 || die "hub did not answer /hub/health at $HUB_URL (see $RD/hub.log)"
  [ "$(cat "/proc/$HUB_PID/comm" 2>/dev/null)" = deno ] || die "pid $HUB_PID is not the deno process"
  log "hub pid $HUB_PID: public $HUB_URL, hub $HUB_INTERNAL"

  if [ "$run" = 1 ] && [ "$DIRECT_WARMUP" -gt 0 ]; then
    # a new account's very first server start writes ~/.local etc. and reads
    # Python's modules from disk: not counted (direct-warmup.json)
    log "warm-up launch(es) of $SINGLE_USER_CMD as ${USERS[0]}, not counted: $DIRECT_WARMUP"
    direct_batch warmup "$DIRECT_WARMUP" "$HUB_INTERNAL/hub/api" "$RD/direct-warmup.json"
  fi
  log "direct launches of $SINGLE_USER_CMD as ${USERS[0]} (before): $DIRECT_BEFORE"
  direct_batch before "$DIRECT_BEFORE" "$HUB_INTERNAL/hub/api" "$RD/direct.json"

  HUB_URL="$HUB_URL" TOKEN="$TOKEN" HUB_PIDS="$HUB_PID" USER_RSS=1 \
    SINGLE_REPEAT="$SINGLE_REPEAT" CONCURRENT_REPEAT="$CONCURRENT_REPEAT" \
    SPAWN_USERS="$(IFS=,; echo "${USERS[*]}")" OUT="$RD/spawn.json" \
    run_step 900 node "$B/spawn-bench.mjs" || log "spawn-bench failed or had failures (see $RD/spawn.json)"

  # The login flow with the user's server already running (the harness's
  # login-bench.mjs, "warm"): GET /hub/login, POST it, follow every redirect
  # with a cookie jar to the notebook page's 200 (the server's own OAuth
  # round trip through the hub included).
  log "login flow, server running: $LOGIN_COUNT times as ${USERS[0]}"
  HUB_URL="$HUB_URL" TOKEN="$TOKEN" LOGIN_USER="${USERS[0]}" LOGIN_PASSWORD=bench \
    COUNT="$LOGIN_COUNT" VARIANTS=warm OUT="$RD/login.json" \
    run_step 300 node "$B/login-bench.mjs" || log "login-bench failed (see $RD/login.json)"
  curl -s -o /dev/null -X DELETE -H "Authorization: token $TOKEN" "$HUB_URL/hub/api/users/${USERS[0]}/server" || true

  log "direct launches (after): $DIRECT_AFTER"
  direct_batch after "$DIRECT_AFTER" "$HUB_INTERNAL/hub/api" "$RD/direct.json"

  running=0
  for u in "${USERS[@]}"; do running=$((running + $(pgrep -c -u "$u" || true))); done
  [ "$running" = 0 ] || log "note: $running bench-user process(es) still running before the hub stops"
  t0=$(date +%s%3N); stop_pid "$HUB_PID" 30; STARTED=()
  jq -n --argjson ms $(( $(date +%s%3N) - t0 )) '{hub_stop_ms:$ms}' > "$RD/hub-stop.json"
  user_leftovers
  round_end
done

# ---- issue-4 table --------------------------------------------------------------
ANCHOR_JSON=$(ls "$SHARED_BENCH"/results/anchor-*.json 2>/dev/null | sort | tail -1 || true)
with_summary_js <<'EOF' | OUT_MD="$RESULTS/spawn-$STAMP.md" RAW="$RAW" ANCHOR_JSON="$ANCHOR_JSON" CMD="RUNS=$RUNS bash bench/spawn.sh" \
  node --input-type=module -
import zlib from "node:zlib";
const runs = runsIn(raw);
const load = readJson; // (run, file)
const hubLog = (d) => {
  for (const f of ["hub.log.gz", "hub.log"]) {
    try { const b = fs.readFileSync(path.join(raw, d, f)); return (f.endsWith(".gz") ? zlib.gunzipSync(b) : b).toString(); } catch { /* next */ }
  }
  return "";
};
const max = (vs) => { const s = vs.filter((v) => num(v) != null); return s.length ? Math.max(...s) : null; };
const f = (v) => (typeof v === "string" ? v : num(v) == null ? "n/a" : Number.isInteger(v) ? v.toLocaleString("en-US") : Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US") : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

const R = runs.map((d) => {
  const spawn = load(d, "spawn.json"), direct = load(d, "direct.json"), login = load(d, "login.json");
  const ready = [...hubLog(d).matchAll(/(?:server ready|event server\.ready) (.*)/g)].map((m) => {
    const g = (k) => Number((new RegExp(`\\b${k}=(\\d+)`).exec(m[1]) || [])[1]);
    return { user: (/user=(\S+)/.exec(m[1]) || [])[1], prepare: g("prepare_ms"), listen: g("listen_ms"), total: g("total_ms") };
  });
  const nSingle = spawn?.single?.length ?? 0;
  const single = (spawn?.single || []).filter((r) => !r.error);
  const conc = spawn?.concurrent?.[0];
  const dOk = (direct?.results || []).filter((r) => !r.error);
  return {
    d, spawn, direct, m0: load(d, "machine-start.json"), m1: load(d, "machine-end.json"), stop: load(d, "hub-stop.json"),
    single_post: single.map((r) => r.post_ms), single_ready: single.map((r) => r.ready_ms), single_reach: single.map((r) => r.reachable_ms),
    single_stop: (spawn?.single || []).map((r) => r.stop?.ms), single_failed: spawn ? spawn.summary.single.failed : null,
    post_statuses: spawn?.summary?.single?.post_statuses,
    conc_all: conc?.all_reachable_ms, conc_ready_med: spawn?.summary?.concurrent?.[0]?.ready_ms?.p50,
    conc_ready_max: spawn?.summary?.concurrent?.[0]?.ready_ms?.max, conc_failed: spawn?.summary?.concurrent?.[0]?.failed ?? null,
    conc_stop: conc?.all_stopped_ms, conc_statuses: spawn?.summary?.concurrent?.[0]?.post_statuses,
    hub_rss_servers: conc?.hub_rss_with_servers?.total_kib, server_rss: median(conc?.server_rss_kib || []),
    hub_rss_before: spawn?.hub_rss_before?.total_kib,
    direct_listen: dOk.map((r) => r.listen_ms), direct_stop: dOk.map((r) => r.stop_ms), direct_failed: (direct?.results || []).length - dOk.length,
    log_single: ready.slice(0, nSingle), log_conc: ready.slice(nSingle),
    login_ms: login?.variants?.warm?.total_ms?.p50 ?? null, login_redirects: login?.variants?.warm?.redirects?.p50 ?? null,
    login_failed: login?.variants?.warm ? login.variants.warm.count - login.variants.warm.ok : null, login_chain: login?.variants?.warm?.example_chain ?? null,
  };
});
const all = (k) => R.flatMap((r) => r[k]);
const perRun = (fn) => R.map(fn);
const overheadRun = (r) => (median(r.single_ready) ?? NaN) - (median(r.direct_listen) ?? NaN);
const singleReady = median(all("single_ready")), directListen = median(all("direct_listen"));
const overhead = singleReady != null && directListen != null ? singleReady - directListen : null;
const concFailed = R.reduce((a, r) => a + (r.conc_failed ?? 0), 0), singleFailed = R.reduce((a, r) => a + (r.single_failed ?? 0), 0);
const L = [];
L.push("# onehub spawn benchmark (issue 4)", "");
L.push(`Generated ${new Date().toISOString()} by \`${process.env.CMD}\` from \`${raw}\`; ${R.length} run(s). ` +
  "1-user numbers: median over every spawn of every run (runs in brackets: each run's median); 10-at-once: median of runs.", "");
L.push("| metric | onehub | runs | JupyterHub 3.0 anchor | target | met? |", "| --- | ---: | --- | ---: | ---: | --- |");
const row = (name, v, runsVals, a, target, met) => L.push(`| ${name} | ${f(v)} | ${runsVals.map(f).join(" / ")} | ${a == null ? "—" : f(a)} | ${target} | ${met} |`);
row("1 user: POST → servers[''].ready (ms)", singleReady, perRun((r) => median(r.single_ready)), anc("Spawn 1 user: POST → user model servers"), "", "");
row("jupyterhub-singleuser alone: spawn → first answer < 500 (ms)", directListen, perRun((r) => median(r.direct_listen)), null, "", "");
row("**hub overhead per spawn** = the two above (ms)", overhead, perRun(overheadRun), null, "≤ 50 ms",
  overhead == null ? "n/a" : overhead <= 50 ? "yes" : `no (over by ${f(overhead - 50)} ms)`);
const loginMs = median(perRun((r) => r.login_ms));
row("login flow, server running: GET /hub/login → notebook 200 (ms, median of runs' medians)", loginMs, perRun((r) => r.login_ms), anc("Login flow, server already running: total"), "≤ 50 ms",
  loginMs == null ? "n/a" : loginMs <= 50 ? "yes" : `no (over by ${f(loginMs - 50)} ms)`);
row("login flow, server running: redirects followed", median(perRun((r) => r.login_redirects)), perRun((r) => r.login_redirects), anc("Login flow, server already running: redirects"), "", "");
row("10 users at once: all 10 reachable (ms)", median(perRun((r) => r.conc_all)), perRun((r) => r.conc_all), anc("Spawn 10 users at once: all 10 reachable"), "", "");
row("10 users at once: failures (sum over runs)", concFailed, perRun((r) => r.conc_failed), anc("Spawn 10 users at once: failures"), "0", concFailed === 0 && R.every((r) => r.conc_failed != null) ? "yes" : "no");
L.push("", "| other | onehub | runs | anchor |", "| --- | ---: | --- | ---: |");
const o = (name, v, runsVals, a) => L.push(`| ${name} | ${f(v)} | ${runsVals.map(f).join(" / ")} | ${a == null ? "—" : f(a)} |`);
o("1 user: POST answered (ms)", median(all("single_post")), perRun((r) => median(r.single_post)), anc("Spawn 1 user: POST …/server answered"));
o("1 user: POST → /user/<u>/api/status 200 via public URL (ms)", median(all("single_reach")), perRun((r) => median(r.single_reach)), anc("Spawn 1 user: POST → /user/<u>/api/status"));
o("1 user: failures (sum)", singleFailed, perRun((r) => r.single_failed), null);
o("hub log, 1 user: prepare_ms (POST handled → process started)", median(all("log_single").map((x) => x.prepare)), perRun((r) => median(r.log_single.map((x) => x.prepare))), null);
o("hub log, 1 user: listen_ms (process started → first answer < 500, 20 ms polls)", median(all("log_single").map((x) => x.listen)), perRun((r) => median(r.log_single.map((x) => x.listen))), null);
o("hub log, 1 user: total_ms", median(all("log_single").map((x) => x.total)), perRun((r) => median(r.log_single.map((x) => x.total))), null);
o("hub log, 1 user: total − prepare − listen (route + DB after ready)", median(all("log_single").map((x) => x.total - x.prepare - x.listen)), perRun((r) => median(r.log_single.map((x) => x.total - x.prepare - x.listen))), null);
o("1 user: POST→ready minus hub-log total_ms (HTTP, auth, answer, GET poll)", median(R.flatMap((r) => r.single_ready.map((v, i) => v - (r.log_single[i]?.total ?? NaN)))), perRun((r) => median(r.single_ready.map((v, i) => v - (r.log_single[i]?.total ?? NaN)))), null);
o("1 user: hub-log listen_ms minus direct listen (median)", median(all("log_single").map((x) => x.listen)) - directListen, perRun((r) => median(r.log_single.map((x) => x.listen)) - median(r.direct_listen)), null);
o("10 at once: per-user ready, median (ms)", median(perRun((r) => r.conc_ready_med)), perRun((r) => r.conc_ready_med), anc("Spawn 10 users at once: per-user ready, median"));
o("10 at once: per-user ready, slowest (ms)", median(perRun((r) => r.conc_ready_max)), perRun((r) => r.conc_ready_max), anc("Spawn 10 users at once: per-user ready, slowest"));
o("hub log, 10 at once: prepare_ms median / max", median(all("log_conc").map((x) => x.prepare)), perRun((r) => `${f(median(r.log_conc.map((x) => x.prepare)))} / ${f(max(r.log_conc.map((x) => x.prepare)))}`), null);
o("hub log, 10 at once: listen_ms median / max", median(all("log_conc").map((x) => x.listen)), perRun((r) => `${f(median(r.log_conc.map((x) => x.listen)))} / ${f(max(r.log_conc.map((x) => x.listen)))}`), null);
o("hub log, 10 at once: total_ms median / max", median(all("log_conc").map((x) => x.total)), perRun((r) => `${f(median(r.log_conc.map((x) => x.total)))} / ${f(max(r.log_conc.map((x) => x.total)))}`), null);
o("Stop 1 server: DELETE → gone from user model (ms)", median(all("single_stop")), perRun((r) => median(r.single_stop)), anc("Stop 1 server: DELETE"));
o("jupyterhub-singleuser alone: SIGTERM → exit (ms)", median(all("direct_stop")), perRun((r) => median(r.direct_stop)), null);
o("Stop 10 servers at once: all gone (ms)", median(perRun((r) => r.conc_stop)), perRun((r) => r.conc_stop), anc("Stop 10 servers at once"));
o("Hub RSS before spawning (MiB)", median(perRun((r) => r.hub_rss_before / 1024)), perRun((r) => r.hub_rss_before / 1024), anc("Hub RSS idle (hub + CHP), 0 users"));
o("Hub RSS with 10 servers running (MiB)", median(perRun((r) => r.hub_rss_servers / 1024)), perRun((r) => r.hub_rss_servers / 1024), anc("Hub RSS with 10 servers running"));
o("One single-user server RSS (MiB)", median(perRun((r) => r.server_rss / 1024)), perRun((r) => r.server_rss / 1024), anc("One single-user server RSS"));
o("Hub stop after the run, SIGTERM → exit (ms)", median(perRun((r) => r.stop?.hub_stop_ms)), perRun((r) => r.stop?.hub_stop_ms), anc("Hub shutdown with 0 servers, after the run"));
o("direct launches that failed (sum)", R.reduce((a, r) => a + r.direct_failed, 0), perRun((r) => r.direct_failed), null);
L.push("", "POST statuses (1 user / 10 at once) per run:", "");
for (const r of R) L.push(`- ${r.d}: ${(r.post_statuses || []).join(",")} / ${(r.conc_statuses || []).join(",")}`);
L.push("", "Every 1-user spawn (POST → ready, hub log prepare/listen/total) and direct launch, ms:", "");
for (const r of R) {
  L.push(`- ${r.d}: spawns ${r.single_ready.map((v, i) => `${f(v)} (${r.log_single[i]?.prepare}/${r.log_single[i]?.listen}/${r.log_single[i]?.total})`).join(", ")}; direct ${r.direct_listen.map(f).join(", ")}`);
}
L.push("", "Login flow (server running), failures per run and the first run's chain:", "");
for (const r of R) L.push(`- ${r.d}: ${r.login_failed ?? "n/a"} failed`);
for (const c of R[0]?.login_chain ?? []) L.push(`    - ${c}`);
L.push("", "Load average at start → end of each run:", "");
for (const r of R) L.push(`- ${r.d}: ${r.m0?.loadavg ?? "?"} → ${r.m1?.loadavg ?? "?"}; busiest at start: ${r.m0?.top_cpu ?? "?"}`);
writeTable(L);
EOF
log "done: $RESULTS/spawn-$STAMP.md (raw: $RAW)"
