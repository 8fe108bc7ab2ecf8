#!/usr/bin/env bash
# Runs every test (`deno task test`), then the product code's @examples
# (`deno test --doc`). The tests that boot a testbed (a fresh
# Debian container with systemd: tests/**/*_test.ts calling
# skipWithoutTestbed) spend minutes waiting on debootstrap, apt and systemd,
# so each runs in the background, in its own `deno test`, while the rest of
# the suite runs in the foreground; their output follows the suite's. Ends
# with one line counting every file's tests, and fails if any run failed.
#
# With arguments it is plain `deno test` over them, e.g.
# `deno task test tests/proxy/`.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  exec deno test -A --trace-leaks "$@"
fi
mkdir -p test-output
mapfile -t booted < <(grep -rl --include='*_test.ts' 'skipWithoutTestbed(' tests | sort)
pids=()
for file in "${booted[@]}"; do
  deno test -A --trace-leaks "$file" >"test-output/$(basename "$file" .ts).log" 2>&1 &
  pids+=("$!")
done
ignore=$(IFS=,; echo "${booted[*]}")
deno test -A --trace-leaks ${ignore:+"--ignore=$ignore"} tests/ 2>&1 | tee test-output/suite.log
rc=${PIPESTATUS[0]}
# Every @example in the product code runs too (what needs a real user or
# process is defined there, not called).
deno test -A --trace-leaks --doc hub/ proxy/ spawners/ templates/ 2>&1 | tee test-output/doc.log
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
logs=(test-output/suite.log test-output/doc.log)
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || rc=1
  log="test-output/$(basename "${booted[$i]}" .ts).log"
  echo "──── ${booted[$i]} (ran beside the suite) ────"
  cat "$log"
  logs+=("$log")
done
# Deno's closing line of each run: "ok | 12 passed (3 steps) | 0 failed (1s)".
passed=0
failed=0
for log in "${logs[@]}"; do
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
  if [ -z "$line" ]; then
    echo "run-tests: no summary in $log" >&2
    rc=1
    continue
  fi
  passed=$((passed + $(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$line")))
  failed=$((failed + $(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$line")))
done
echo "tests: ${passed} passed, ${failed} failed"
exit "$rc"
