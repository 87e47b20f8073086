#!/usr/bin/env bash
# fuzz.sh — build every libFuzzer target tests/fuzz/fuzz_*.c with clang
# (-fsanitize=fuzzer,address,undefined) into build/fuzz/ and run each for
# SECONDS on a copy of its corpus tests/fuzz/corpus/<name>/.  Any crashing
# input is copied into that corpus directory (crash-<sha1>), so `make test`
# replays it from then on as a regression test.  Prints the executions per
# target and the total.
#
# Usage: scripts/fuzz.sh SECONDS [NAME...]      (NAME like fuzz_rsp_parser)
#
# A target compiles with protocol/*.c.  It can ask for more in its first
# lines:   // fuzz-sources: stub/handlers.c stub/transport.c
#          // fuzz-libs: -ldw -lelf -ljansson
#          // fuzz-dummy: tests/fuzz/dummy_threads.c
# (fuzz-dummy: a helper program built without sanitizers into build/fuzz/<name>/dummy,
# named to the target in GOTAP_FUZZ_DUMMY_BIN.)
# FUZZ_MERGE=1 also merges the inputs that found new coverage back into the
# seed corpus (libFuzzer -merge=1), to be reviewed and committed by hand.
# Exit status: 0 if no target crashed and all built, 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:?usage: scripts/fuzz.sh SECONDS [NAME...]}
shift
out=$root/build/fuzz
mkdir -p "$out"
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "fuzz.sh: $CLANG not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

targets=()
if [ $# -gt 0 ]; then
  for n in "$@"; do targets+=("tests/fuzz/$n.c"); done
else
  for f in tests/fuzz/fuzz_*.c; do [ -e "$f" ] && targets+=("$f"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no tests/fuzz/fuzz_*.c" >&2; exit 1; }

status=0 total=0
summary=()
for src in "${targets[@]}"; do
  name=$(basename "$src" .c)
  dir=$out/$name
  rm -rf "$dir"; mkdir -p "$dir/corpus" "$dir/artifacts"
  extra_src=$(sed -n '1,20s|^// fuzz-sources: ||p' "$src")
  extra_libs=$(sed -n '1,20s|^// fuzz-libs: ||p' "$src")
  # shellcheck disable=SC2086
  if ! "$CLANG" -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -Iprotocol -Istub -Ianalyzer -o "$dir/$name" "$src" protocol/*.c $extra_src $extra_libs \
      >"$dir/build.log" 2>&1; then
    cat "$dir/build.log" >&2
    echo "FAIL: $name: build"
    summary+=("$name: build failed"); status=1; continue
  fi
  dummy_src=$(sed -n '1,20s|^// fuzz-dummy: ||p' "$src")
  dummy_bin=""
  if [ -n "$dummy_src" ]; then
    if ! "$CLANG" -std=c11 -D_GNU_SOURCE -g -O1 -pthread -Wall -Wextra -Werror -o "$dir/dummy" $dummy_src \
        >>"$dir/build.log" 2>&1; then
      cat "$dir/build.log" >&2
      echo "FAIL: $name: build of $dummy_src"
      summary+=("$name: build failed"); status=1; continue
    fi
    dummy_bin=$dir/dummy
  fi
  seed=tests/fuzz/corpus/$name
  mkdir -p "$seed"
  cp -r "$seed"/. "$dir/corpus/" 2>/dev/null || true
  # Run until SECONDS have passed; after a crash libFuzzer stops, so start it
  # again for the time left (at most 5 crashes per target).
  start=$(date +%s) execs=0 crashes=0
  while :; do
    left=$(( secs - ($(date +%s) - start) ))
    [ "$left" -gt 0 ] || break
    log=$dir/run.$crashes.log
    rc=0
    GOTAP_FUZZ_DUMMY_BIN=$dummy_bin \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$dir/$name" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$log" 2>&1 || rc=$?
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$n" ]; then   # crashed before printing stats: take the last status line
      n=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    fi
    execs=$(( execs + ${n:-0} ))
    [ "$rc" -eq 0 ] && break
    crashes=$((crashes + 1))
    grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -5 >&2 || true
    [ "$crashes" -ge 5 ] && break
  done
  for a in "$dir"/artifacts/*; do
    [ -e "$a" ] || continue
    cp "$a" "$seed/$(basename "$a")"
    echo "$name: kept $(basename "$a") in $seed/ as a regression input"
  done
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    before=$(ls "$seed" | wc -l)
    "$dir/$name" -merge=1 "$seed" "$dir/corpus" >"$dir/merge.log" 2>&1 || true
    echo "$name: merged $(( $(ls "$seed" | wc -l) - before )) new inputs into $seed/"
  fi
  total=$(( total + execs ))
  if [ "$crashes" -gt 0 ]; then status=1; fi
  line="$name: $execs executions in ${secs}s, $crashes crash(es), corpus $(ls "$dir/corpus" | wc -l) inputs"
  summary+=("$line")
  echo "$line"
done
echo
printf '%s\n' "${summary[@]}"
echo "total executions: $total"
exit $status
