#!/usr/bin/env bash
# Run every gotap test and print one closing line "N passed, N failed, N skipped".
#
# Each test program (unit binary, fuzz corpus replay, integration script)
# prints one line per check: "PASS: name", "FAIL: name: why" or
# "SKIP: name: why".  A program that exits non-zero without printing a FAIL
# line counts as one failure of its own.  Exit status: 0 iff nothing failed.
#
# Environment: GOTAP_BIN (dir with gotap-stub, gotap), GOTAP_BUILD (build dir).
# TESTS=pattern runs only the test programs whose name contains pattern.
set -u
cd "$(dirname "$0")/.."
export GOTAP_ROOT=$PWD
export GOTAP_BIN=${GOTAP_BIN:-$PWD/bin}
export GOTAP_BUILD=${GOTAP_BUILD:-$PWD/build}
export GOTAP_TMP=$(mktemp -d /tmp/gotap-test.XXXXXX)
trap 'rm -rf "$GOTAP_TMP"' EXIT
PER_TEST_TIMEOUT=${PER_TEST_TIMEOUT:-600}

pass=0 fail=0 skip=0

# Programs the tests run (Go and C), built by this run.
if ! tests/targets/build.sh >"$GOTAP_TMP/targets.log" 2>&1; then
  cat "$GOTAP_TMP/targets.log"
  echo "FAIL: build test targets"
  echo; echo "0 passed, 1 failed"; exit 1
fi
failed_names=()

run_one() {   # name, command...
  local name=$1; shift
  if [ -n "${TESTS:-}" ] && [[ "$name" != *"$TESTS"* ]]; then return; fi
  local out="$GOTAP_TMP/out.$$.txt"
  echo "== $name"
  timeout -k 10 "$PER_TEST_TIMEOUT" "$@" >"$out" 2>&1
  local rc=$?
  cat "$out"
  local p f s
  p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out"); s=$(grep -c '^SKIP: ' "$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL: $name: exited with status $rc"
    f=1
  fi
  [ "$rc" -eq 124 ] && echo "FAIL: $name: timed out after ${PER_TEST_TIMEOUT}s"
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  [ "$f" -gt 0 ] && failed_names+=("$name")
  rm -f "$out"
}

# Unit tests and fuzz-corpus replays (built by `make all`).
for t in "$GOTAP_BUILD"/tests/*; do
  [ -x "$t" ] || continue
  case "$(basename "$t")" in
    replay_fuzz_*)
      n=$(basename "$t"); n=${n#replay_}
      run_one "$n-corpus" "$t" tests/fuzz/corpus/"$n" ;;
    *) run_one "$(basename "$t")" "$t" ;;
  esac
done

# Integration tests: real stub, real gdb, real programs over loopback TCP.
for t in tests/integration/*.sh; do
  [ -f "$t" ] || continue
  run_one "$(basename "$t" .sh)" bash "$t"
done

echo
if [ ${#failed_names[@]} -gt 0 ]; then echo "failed in: ${failed_names[*]}"; fi
if [ "$skip" -gt 0 ]; then
  echo "$pass passed, $fail failed, $skip skipped"
else
  echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
