#!/usr/bin/env bash
# script_attach.sh — scripts on a program gotap did not start:
#   - --pid PID, then SIGINT to gotap: end probes run, the breakpoints come
#     out, the program is detached and finishes with its own output and exit
#     status (grow_slow exits 3);
#   - --pid with --duration: the same, on a timer;
#   - --remote to a gotap-stub already serving, exit() from a probe: the
#     program is detached and runs to its end.
. "$(dirname "$0")/script_lib.bash"
command -v go >/dev/null || { echo "SKIP: script_attach: go not installed"; exit 0; }
scr_runner
scr_build grow_slow
T=$SCR_T
G=$SCR_TARGETS/grow_slow
S='global n; probe process.function("runtime.newstack") { n++ } probe end { printf("saw %d\n", n > 0) }'

"$G" >"$T/p1.out" 2>&1 & gp=$!
sleep 0.3
"${SCR_RUN[@]}" -e "$S" --pid "$gp" >"$T/d1.out" 2>&1 & dp=$!
sleep 1.5
kill -INT "$dp"
wait "$dp"; drc=$?
wait "$gp"; prc=$?
scr_check attach.sigint.session "gotap exit $drc, want 0 and 'saw 1'" "$T/d1.out" \
	grep -qx 'saw 1' "$T/d1.out"
scr_check attach.sigint.program_runs_on "program exit $prc, want 3 and its last line" "$T/p1.out" \
	[ "$prc" -eq 3 -a "$(tail -1 "$T/p1.out")" = "grow_slow: finished 60 rounds 0" ]

"$G" >"$T/p2.out" 2>&1 & gp=$!
sleep 0.3
timeout 60 "${SCR_RUN[@]}" --duration 1 -e "$S" --pid "$gp" >"$T/d2.out" 2>&1; drc=$?
wait "$gp"; prc=$?
scr_check attach.duration "gotap exit $drc, program exit $prc" "$T/d2.out" \
	[ "$drc" -eq 0 -a "$prc" -eq 3 -a "$(grep -c '^saw 1$' "$T/d2.out")" -eq 1 ]

port=$((20000 + RANDOM % 20000))
"$GOTAP_STUB" --once ":$port" "$G" >"$T/stub.log" 2>&1 & sp=$!
for _ in $(seq 1 50); do grep -q 'Listening on port' "$T/stub.log" && break; sleep 0.1; done
timeout 60 "${SCR_RUN[@]}" --binary "$G" --remote ":$port" \
	-e 'global n; probe process.function("runtime.newstack") { if (++n == 5) exit() } probe end { printf("remote %d\n", n) }' \
	>"$T/d3.out" 2>&1; drc=$?
wait "$sp"
scr_check attach.remote_exit "gotap exit $drc" "$T/d3.out" grep -qx 'remote 5' "$T/d3.out"
for _ in $(seq 1 100); do grep -q 'grow_slow: finished' "$T/stub.log" && break; sleep 0.1; done
scr_check attach.remote_program_runs_on "the program did not finish after detach" "$T/stub.log" \
	grep -q 'grow_slow: finished 60 rounds' "$T/stub.log"
exit 0
