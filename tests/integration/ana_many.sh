#!/usr/bin/env bash
# ana_many.sh — 1000 goroutines at GOMAXPROCS=2 run to completion under gotap;
# the forced GCs shrink parked stacks (copystack calls that are not growths:
# ignored), and every growth is seen right after its newstack on the same
# thread (none unmatched, none lost).
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools go
[ "$ANA_STUB" = gdbserver ] && ana_need_tools gdbserver
ana_build grow_many
M=$ANA_TARGETS/grow_many
T=$ANA_T
"$M" >"$T/plain.txt" 2>&1 || { ana_fail many.plain_run "grow_many fails without gotap" "$T/plain.txt"; exit 1; }

ana_gotap "$T/m.txt" "$T/m.err" --summary -- "$M"; rc=$?
ANA_EVIDENCE=$T/m.err ana_check many.runs "gotap exited $rc" [ "$rc" -eq 0 ]
ANA_EVIDENCE=$T/m.err ana_check many.completes "the program did not finish" \
	grep -q '^grow_many: 1000 goroutines done' "$T/m.err" "$T/m.txt"
n=$(ana_events "$T/m.txt")
ANA_EVIDENCE=$T/m.err ana_check many.events "only $n growth events for 1000 goroutines" [ "$n" -ge 1000 ]
shr=$(sed -n 's/.*copystack shrinks ignored: \([0-9]*\).*/\1/p' "$T/m.err")
ANA_EVIDENCE=$T/m.err ana_check many.shrinks_ignored "no shrink seen (${shr:-?}): GC did not run?" [ "${shr:-0}" -gt 0 ]
ANA_EVIDENCE=$T/m.err ana_check many.none_unmatched "growths without their newstack" \
	bash -c "! grep -q 'without a preceding newstack' '$T/m.err'"
goids=$(grep -o '(goroutine [0-9]*)' "$T/m.txt" | sort -u | wc -l)
ana_check many.goroutines "events from only $goids goroutines" [ "$goids" -ge 1000 ]
echo "  ($n growths from $goids goroutines, ${shr:-?} shrinks ignored)"
exit 0
