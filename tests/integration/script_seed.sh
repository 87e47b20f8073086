#!/usr/bin/env bash
# script_seed.sh — the seed article's two SystemTap scripts, as written (PATH
# and the stack.go line changed for this Go), run by gotap's script engine:
#   - newstack.stp on the seed's example.go: "runtime: newstack: N -> M"
#     lines, stap-format file:line backtraces, the program's own output;
#   - the same script on script_grow: backtraces through main.say at
#     script_grow.go:LINE;
#   - newstack_sampled.stp on script_grow (about 12,000 newstack hits):
#     exactly every 1000th hit printed (hit count from an added end probe),
#     and the script as written runs too;
#   - a script computing what the built-in report computes
#     (tests/scripts/growth_like_builtin.stp) prints exactly what
#     `gotap -- PROG` prints, event for event, frame for frame.
. "$(dirname "$0")/script_lib.bash"
command -v go >/dev/null || { echo "SKIP: script_seed: go not installed"; exit 0; }
scr_runner
scr_build example script_grow grow_recurse
T=$SCR_T
LINE=$(scr_newstack_line)
if [ -z "$LINE" ]; then echo "SKIP: script_seed: no 'morebuf := thisg.m.morebuf' in this Go's stack.go"; exit 0; fi
S=$SCR_ROOT/tests/scripts

# ---- the simplified script on example.go
scr_instantiate "$S/newstack.stp" "$T/ns.stp" "$SCR_TARGETS/example" "$LINE"
timeout 120 "${SCR_RUN[@]}" --script "$T/ns.stp" >"$T/ns.out" 2>"$T/ns.err"; rc=$?
scr_check seed.newstack.runs "exit status $rc" "$T/ns.err" [ "$rc" -eq 0 ]
scr_events_ok "$T/ns.out" >"$T/ns.why" 2>&1
scr_check seed.newstack.events "bad events: $(cat "$T/ns.why")" "$T/ns.out" [ ! -s "$T/ns.why" ]
scr_check seed.newstack.goexit "no backtrace ends in runtime.goexit" "$T/ns.out" \
	grep -q ' : runtime.goexit+0x1/0x[0-9a-f]* at .*asm_amd64.s:[0-9]* \[' "$T/ns.out"
n=$(grep -c '^hello$' "$T/ns.out" "$T/ns.err" | awk -F: '{s += $2} END {print s}')
scr_check seed.newstack.program_output "the program printed hello $n times, not 5" "$T/ns.out" [ "$n" -eq 5 ]

# ---- the same script on a program that grows inside main.say
scr_instantiate "$S/newstack.stp" "$T/ns2.stp" "$SCR_TARGETS/script_grow" "$LINE"
timeout 300 "${SCR_RUN[@]}" --script "$T/ns2.stp" >"$T/ns2.out" 2>"$T/ns2.err"; rc=$?
scr_check seed.newstack_grow.runs "exit status $rc" "$T/ns2.err" [ "$rc" -eq 0 ]
scr_events_ok "$T/ns2.out" >"$T/ns2.why" 2>&1
scr_check seed.newstack_grow.events "bad events: $(cat "$T/ns2.why")" "$T/ns2.out" [ ! -s "$T/ns2.why" ]
say_line=$(grep -n 'return say(depth-1, pad)' "$SCR_ROOT/tests/targets/go/script_grow.go" | cut -d: -f1)
scr_check seed.newstack_grow.main_say "no frame main.say at script_grow.go:$say_line" "$T/ns2.out" \
	grep -Eq "^ 0x[0-9a-f]+ : main\.say\+0x[0-9a-f]+/0x[0-9a-f]+ at .*/script_grow\.go:$say_line \[.*script_grow\]$" "$T/ns2.out"

# ---- the sampled script: every 1000th hit
scr_instantiate "$S/newstack_sampled.stp" "$T/s.stp" "$SCR_TARGETS/script_grow" "$LINE"
{ cat "$T/s.stp"; echo 'probe end { printf("hits %d\n", printstackgrow) }'; } >"$T/s_count.stp"
timeout 300 "${SCR_RUN[@]}" --script "$T/s_count.stp" >"$T/s.out" 2>"$T/s.err"; rc=$?
scr_check seed.sampled.runs "exit status $rc" "$T/s.err" [ "$rc" -eq 0 ]
hits=$(sed -n 's/^hits \([0-9]*\)$/\1/p' "$T/s.out")
printed=$(grep -c '^runtime: newstack: ' "$T/s.out")
want=$(( hits > 0 ? (hits - 1) / 1000 + 1 : 0 ))
scr_check seed.sampled.grows_often "only ${hits:-no} hits" "$T/s.out" [ "${hits:-0}" -ge 10000 ]
scr_check seed.sampled.every_1000th "$printed events printed for $hits hits, want $want" "$T/s.out" \
	[ "$printed" -eq "$want" ]
scr_events_ok "$T/s.out" >"$T/s.why" 2>&1
scr_check seed.sampled.events "bad events: $(cat "$T/s.why")" "$T/s.out" [ ! -s "$T/s.why" ]
scr_check seed.sampled.main_say "no backtrace through main.say" "$T/s.out" grep -q ' : main\.say+0x' "$T/s.out"
timeout 300 "${SCR_RUN[@]}" --script "$T/s.stp" >"$T/s2.out" 2>"$T/s2.err"; rc=$?
printed=$(grep -c '^runtime: newstack: ' "$T/s2.out")
scr_check seed.sampled.as_written "exit $rc, $printed events" "$T/s2.err" [ "$rc" -eq 0 -a "$printed" -ge 10 ]

# ---- a script that computes the built-in report agrees with it
if [ -x "$GOTAP_BIN/gotap" ]; then
	R=$SCR_TARGETS/grow_recurse
	GOMAXPROCS=1 GOGC=off timeout 300 "$GOTAP_BIN/gotap" -- "$R" >"$T/b.out" 2>"$T/b.err"
	GOMAXPROCS=1 GOGC=off timeout 300 "${SCR_RUN[@]}" --script "$S/growth_like_builtin.stp" -- "$R" \
		>"$T/bs.out" 2>"$T/bs.err"
	grep -v '^grow_recurse' "$T/b.out" >"$T/b.ev"
	grep -v '^grow_recurse' "$T/bs.out" >"$T/bs.ev"
	diff "$T/b.ev" "$T/bs.ev" >"$T/b.diff"
	ne=$(grep -c '^runtime: newstack' "$T/b.ev")
	scr_check script.same_as_builtin "the script's events differ from gotap's ($ne events)" "$T/b.diff" \
		[ ! -s "$T/b.diff" -a "$ne" -gt 0 ]
else
	echo "SKIP: script.same_as_builtin: no $GOTAP_BIN/gotap"
fi
exit 0
