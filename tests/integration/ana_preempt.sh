#!/usr/bin/env bash
# ana_preempt.sh — a busy program the scheduler preempts often
# (GODEBUG=asyncpreemptoff=1: every preemption is a stackguard0 = stackPreempt
# request that enters runtime.newstack): gotap counts those entries apart and
# never reports them as growths.  Its growth events equal gdb's count of
# growing runtime.copystack calls, and every event really grew.
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools gdb go python3
[ "$ANA_STUB" = gdbserver ] && ana_need_tools gdbserver
ana_build grow_preempt
export GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1
P=$ANA_TARGETS/grow_preempt
T=$ANA_T

ana_gotap "$T/p.txt" "$T/p.err" --mode=stop --summary -- "$P"; rc=$?   # preemption entries: stop mode only
ANA_EVIDENCE=$T/p.err ana_check preempt.runs "gotap exited $rc" [ "$rc" -eq 0 ]
ANA_EVIDENCE=$T/p.err ana_check preempt.program_output "the program's output is missing" \
	grep -q '^grow_preempt: done true' "$T/p.err" "$T/p.txt"
pre=$(sed -n 's/.*of which preemption requests: \([0-9]*\).*/\1/p' "$T/p.err")
ana_check preempt.entries_counted "no preemption entries counted (${pre:-none})" [ "${pre:-0}" -gt 0 ]
n=$(ana_events "$T/p.txt")
s=$(sed -n 's/^gotap summary: \([0-9]*\) stack growths.*/\1/p' "$T/p.err")
ANA_EVIDENCE=$T/p.err ana_check preempt.summary_matches_events "summary says ${s:-?} growths, $n reported" \
	[ "${s:-x}" = "$n" ]
ana_check preempt.events_grow "an event does not grow" \
	awk '/^runtime: newstack:/ { if ($5 <= $3) bad = 1 } END { exit bad }' "$T/p.txt"
ana_gdb_growths "$P" "$T/gdb.txt"
g=$(sed -n 's/^GDB-GROWTHS \([0-9]*\)/\1/p' "$T/gdb.txt")
ANA_EVIDENCE=$T/gdb.txt ana_check preempt.exact_count "gotap $n growths, gdb ${g:-nothing}" [ "${g:-x}" = "$n" ]
echo "  (gotap: $n growths, $pre preemption entries not reported; gdb: ${g:-?} growths)"
exit 0
