# Shared by bench/run.sh, bench/proxy.sh and bench/spawn.sh: logging and
# process bookkeeping. Only PIDs a script started itself (its STARTED array,
# or the step run by run_step) are ever signalled. Sourced, not run.

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
