#!/usr/bin/env bash
# ana_trace.sh — gotap's trace mode (a copystack tracepoint collected inside
# gotap-stub, the trace buffer streamed while the program runs, non-stop)
# against its stop mode (breakpoint stops) and gdb's own count:
#   - grow_recurse (GOMAXPROCS=1 GOGC=off): 65 growths; the text report of
#     --mode=trace is byte for byte the --mode=stop report, and the JSON
#     events are the same but for pid/tid/time;
#   - grow_bigframe: 6 growths, 2048 -> 32768 at main.bigframe, same sizes
#     as gdb's growing copystack calls;
#   - grow_many with GOMAXPROCS=2: 5376 growths, every goroutine seen, GC
#     shrinks counted apart;
#   - --every N: floor(count/N) events, and the summary still counts all;
#     --max-events N: N events, the program runs to its end; --duration; -o;
#   - the summary says newstack entries are not counted in trace mode.
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools go python3
if [ "$ANA_STUB" = gdbserver ]; then
	ana_skip trace "trace mode needs gotap-stub's streaming trace buffer"; exit 0
fi
ana_build grow_recurse grow_bigframe grow_many
R=$ANA_TARGETS/grow_recurse
B=$ANA_TARGETS/grow_bigframe
M=$ANA_TARGETS/grow_many
T=$ANA_T
export GOMAXPROCS=1 GOGC=off

# ---- the default mode is trace with gotap-stub
GOTAP_DEBUG=1 ana_gotap "$T/d.txt" "$T/d.err" -- "$R"; rc=$?
ANA_EVIDENCE=$T/d.err ana_check trace.default_mode "gotap-stub's default mode is not trace (non-stop); exit $rc" \
	grep -q 'mode: trace (non-stop)' "$T/d.err"

# ---- grow_recurse: exact count, same report as stop mode
ana_gotap "$T/t.txt" "$T/t.err" --mode=trace --summary -- "$R"; rc=$?
ANA_EVIDENCE=$T/t.err ana_check trace.runs "gotap --mode=trace exited $rc" [ "$rc" -eq 0 ]
ANA_EVIDENCE=$T/t.err ana_check trace.program_output "the program's output is missing" \
	grep -q '^grow_recurse: goroutines 8 depth 1500' "$T/t.err" "$T/t.txt"
n=$(ana_events "$T/t.txt")
ANA_EVIDENCE=$T/t.txt ana_check trace.recurse_count "$n events, want 65" [ "$n" -eq 65 ]
s=$(sed -n 's/^gotap summary: \([0-9]*\) stack growths (\([0-9]*\) reported).*/\1 \2/p' "$T/t.err")
ANA_EVIDENCE=$T/t.err ana_check trace.summary_count "summary says '${s:-?}', want '65 65'" [ "$s" = "65 65" ]
ANA_EVIDENCE=$T/t.err ana_check trace.summary_says_trace "the summary does not say newstack is not counted" \
	grep -q 'trace mode: .*newstack entries and preemption requests not counted' "$T/t.err"
ANA_EVIDENCE=$T/t.err ana_check trace.summary_no_newstack_numbers "the summary prints newstack numbers in trace mode" \
	bash -c "! grep -q 'newstack entries: [0-9]' '$T/t.err'"
ana_gotap "$T/s.txt" "$T/s.err" --mode=stop -- "$R"; rc=$?
ANA_EVIDENCE=$T/s.err ana_check trace.stop_mode_runs "gotap --mode=stop exited $rc" [ "$rc" -eq 0 ]
diff "$T/s.txt" "$T/t.txt" >"$T/ts.diff"
ANA_EVIDENCE=$T/ts.diff ana_check trace.text_equals_stop_mode "the trace-mode text report differs from the stop mode's" \
	[ ! -s "$T/ts.diff" -a -s "$T/t.txt" ]
for m in stop trace; do
	ana_gotap "$T/$m.json" "$T/$m.jerr" --mode=$m --format json -- "$R"
	python3 - "$T/$m.json" >"$T/$m.norm" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    for k in ("time", "pid", "tid"):
        o.pop(k, None)
    print(json.dumps(o, sort_keys=True))
PY
done
diff "$T/stop.norm" "$T/trace.norm" >"$T/json.diff"
ANA_EVIDENCE=$T/json.diff ana_check trace.json_equals_stop_mode "JSON events differ (besides pid/tid/time)" \
	[ ! -s "$T/json.diff" -a -s "$T/trace.norm" ]
python3 - "$T/trace.json" >"$T/tid.chk" <<'PY'
import json, sys
bad = [l for l in open(sys.argv[1]) if json.loads(l)["tid"] <= 0]
print("".join(bad[:3]), end="")
PY
ANA_EVIDENCE=$T/tid.chk ana_check trace.json_tid "events without a thread id" [ ! -s "$T/tid.chk" ]

# ---- a big frame
ana_gotap "$T/b.txt" "$T/b.err" --mode=trace -- "$B"
sed -n 's/^runtime: newstack: \([0-9]*\) -> \([0-9]*\) .*/\1 \2/p' "$T/b.txt" >"$T/b.sizes"
nb=$(wc -l <"$T/b.sizes")
ANA_EVIDENCE=$T/b.txt ana_check trace.bigframe_count "$nb events, want 6" [ "$nb" -eq 6 ]
grep -A1 '^runtime: newstack: 2048 -> 32768' "$T/b.txt" | grep -q ' : main\.bigframe+' &&
	ana_pass trace.bigframe_site || ana_fail trace.bigframe_site "2048 -> 32768 not reported at main.bigframe" "$T/b.txt"
ana_gotap "$T/bs.txt" "$T/bs.err" --mode=stop -- "$B"
diff "$T/bs.txt" "$T/b.txt" >"$T/b.diff"
ANA_EVIDENCE=$T/b.diff ana_check trace.bigframe_equals_stop_mode "report differs from the stop mode's" [ ! -s "$T/b.diff" ]
if command -v gdb >/dev/null 2>&1; then
	ana_gdb_growths "$B" "$T/bgdb.txt"
	sed -n 's/^GROW \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$T/bgdb.txt" >"$T/bgdb.sizes"
	diff "$T/bgdb.sizes" "$T/b.sizes" >"$T/bg.diff"
	ANA_EVIDENCE=$T/bg.diff ana_check trace.bigframe_gdb_sizes "sizes differ from gdb's copystack calls" [ ! -s "$T/bg.diff" ]
fi

# ---- many goroutines on two Ps, forced GCs shrinking parked stacks
GOMAXPROCS=2 ana_gotap "$T/m.txt" "$T/m.err" --mode=trace --summary -- "$M"; rc=$?
ANA_EVIDENCE=$T/m.err ana_check trace.many_runs "gotap exited $rc" [ "$rc" -eq 0 ]
ANA_EVIDENCE=$T/m.err ana_check trace.many_completes "the program did not finish" \
	grep -q '^grow_many: 1000 goroutines done' "$T/m.err" "$T/m.txt"
nm=$(ana_events "$T/m.txt")
ANA_EVIDENCE=$T/m.err ana_check trace.many_count "$nm events, want 5376" [ "$nm" -eq 5376 ]
goids=$(grep -o '(goroutine [0-9]*)' "$T/m.txt" | sort -u | wc -l)
ana_check trace.many_goroutines "events from only $goids goroutines" [ "$goids" -ge 1000 ]
shr=$(sed -n 's/.*copystack shrinks ignored: \([0-9]*\).*/\1/p' "$T/m.err")
ANA_EVIDENCE=$T/m.err ana_check trace.many_shrinks "no shrink counted (${shr:-?})" [ "${shr:-0}" -gt 0 ]
ANA_EVIDENCE=$T/m.err ana_check trace.many_no_errors "frames that could not be decoded" \
	bash -c "! grep -q 'could not be analyzed' '$T/m.err'"
echo "  (trace mode: grow_recurse $n, grow_bigframe $nb, grow_many $nm growths from $goids goroutines, ${shr:-?} shrinks)"

# ---- --every, --max-events, --duration, -o
for every in 1 7 10 1000; do
	ana_gotap "$T/e.txt" "$T/e.err" --mode=trace --summary --every "$every" -- "$R"
	got=$(ana_events "$T/e.txt")
	want=$((65 / every))
	s=$(sed -n 's/^gotap summary: \([0-9]*\) stack growths (\([0-9]*\) reported).*/\1 \2/p' "$T/e.err")
	ANA_EVIDENCE=$T/e.err ana_check "trace.every_$every" "$got events, summary '$s'; want $want events of 65" \
		[ "$got" -eq "$want" -a "$s" = "65 $want" ]
done
ana_gotap "$T/e7.txt" "$T/e7.err" --mode=stop --every 7 -- "$R"
ana_gotap "$T/t7.txt" "$T/t7.err" --mode=trace --every 7 -- "$R"
diff "$T/e7.txt" "$T/t7.txt" >"$T/e7.diff"
ANA_EVIDENCE=$T/e7.diff ana_check trace.every_7_equals_stop_mode "--every 7 reports differ between the modes" \
	[ ! -s "$T/e7.diff" ]
ana_gotap "$T/x.txt" "$T/x.err" --mode=trace --summary --max-events 5 -- "$R"; rc=$?
got=$(ana_events "$T/x.txt")
s=$(sed -n 's/^gotap summary: \([0-9]*\) stack growths (\([0-9]*\) reported).*/\1 \2/p' "$T/x.err")
ANA_EVIDENCE=$T/x.err ana_check trace.max_events "$got events, summary '$s', exit $rc (want 5, '5 5', 0)" \
	[ "$got" -eq 5 -a "$s" = "5 5" -a "$rc" -eq 0 ]
ANA_EVIDENCE=$T/x.err ana_check trace.max_events_program_finishes "the program did not run to its end" \
	grep -q '^grow_recurse: goroutines 8' "$T/x.err" "$T/x.txt"
ana_gotap "$T/xs.txt" "$T/xs.err" --mode=stop --max-events 5 -- "$R"
diff "$T/xs.txt" "$T/x.txt" >"$T/x.diff"
ANA_EVIDENCE=$T/x.diff ana_check trace.max_events_equals_stop_mode "--max-events 5 reports differ" [ ! -s "$T/x.diff" ]
ana_gotap "$T/o.txt" "$T/o.err" --mode=trace -o "$T/o.out" -- "$R"; rc=$?
ANA_EVIDENCE=$T/o.err ana_check trace.output_file "-o: $(ana_events "$T/o.out" 2>/dev/null) events in the file, exit $rc" \
	[ "$rc" -eq 0 -a "$(ana_events "$T/o.out")" -eq 65 ]
ana_build grow_slow
ana_gotap "$T/u.txt" "$T/u.err" --mode=trace --duration 1 --summary -- "$ANA_TARGETS/grow_slow"; rc=$?
s=$(sed -n 's/^gotap summary: \([0-9]*\) stack growths.*/\1/p' "$T/u.err")
ANA_EVIDENCE=$T/u.err ana_check trace.duration "--duration 1 on a 3 s program: exit $rc (want its 3), ${s:-no} growths (want some, < 300)" \
	[ "$rc" -eq 3 -a "${s:-0}" -gt 0 -a "${s:-0}" -lt 300 ]
ANA_EVIDENCE=$T/u.err ana_check trace.duration_program_finishes "the program did not run to its end" \
	grep -q '^grow_slow: finished 60 rounds' "$T/u.err" "$T/u.txt"
# ---- a stub without non-stop: trace mode in all-stop (interrupt, read, continue)
# ana_remote OUT ERR STUB-OPTIONS... -- GOTAP-OPTIONS... -- PROG: gotap --remote to a
# gotap-stub on a free TCP port
ana_remote() {
	local out=$1 err=$2; shift 2
	local sopts=() gopts=() log=$ANA_T/stub.$RANDOM.log port="" i
	while [ "$1" != -- ]; do sopts+=("$1"); shift; done; shift
	while [ "$1" != -- ]; do gopts+=("$1"); shift; done; shift
	"$GOTAP_STUB" --once "${sopts[@]}" :0 "$@" >"$log" 2>&1 &
	local spid=$!
	ANA_PIDS+=("$spid")
	for i in $(seq 1 200); do
		port=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$log")
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || { cat "$log" >"$err"; return 99; }
	GOTAP_DEBUG=1 timeout -k 5 120 "$ANA_GOTAP" "${gopts[@]}" --remote "127.0.0.1:$port" --binary "$1" >"$out" 2>"$err"
	local rc=$?
	wait "$spid" 2>/dev/null
	grep -v 'trace frame' "$log" >>"$err"
	return $rc
}
ana_remote "$T/a.txt" "$T/a.err" --disable-packet=QNonStop -- --mode=trace -- "$R"; rc=$?
ANA_EVIDENCE=$T/a.err ana_check trace.allstop_mode "not in all-stop trace mode (exit $rc)" \
	grep -q 'mode: trace (all-stop)' "$T/a.err"
diff "$T/s.txt" "$T/a.txt" >"$T/a.diff"
ANA_EVIDENCE=$T/a.diff ana_check trace.allstop_equals_stop_mode "all-stop trace report differs from the stop mode's" \
	[ ! -s "$T/a.diff" -a -s "$T/a.txt" ]
GOMAXPROCS=2 ana_remote "$T/am.txt" "$T/am.err" --disable-packet=QNonStop -- --mode=trace --summary -- "$M"; rc=$?
na=$(ana_events "$T/am.txt")
ANA_EVIDENCE=$T/am.err ana_check trace.allstop_many_count "all-stop grow_many: $na events (want 5376)" \
	[ "$na" -eq 5376 ]
ANA_EVIDENCE=$T/am.err ana_check trace.allstop_many_exit "all-stop grow_many: exit $rc" [ "$rc" -eq 0 ]
ana_remote "$T/ad.txt" "$T/ad.err" -- --summary -- "$R"; rc=$?
ANA_EVIDENCE=$T/ad.err ana_check trace.remote_default_trace "--remote to gotap-stub: not trace (non-stop) by default (exit $rc)" \
	grep -q 'mode: trace (non-stop)' "$T/ad.err"
diff "$T/s.txt" "$T/ad.txt" >"$T/ad.diff"
ANA_EVIDENCE=$T/ad.diff ana_check trace.remote_equals_stop_mode "--remote trace report differs from the stop mode's" \
	[ ! -s "$T/ad.diff" -a -s "$T/ad.txt" ]
exit 0
