#!/usr/bin/env bash
# ana_growth.sh — gotap's growth report on deterministic programs
# (GOMAXPROCS=1, GOGC=off), checked against gdb's own count through the same
# kind of stub:
#   - exactness: gotap's events == gdb's growing runtime.copystack calls,
#     the same (old, new) sizes in the same order;
#   - every event: old a power of two >= 2048, new a larger power of two;
#   - the first frame of main.recurse's events is main.recurse at the file:line
#     gdb's `info line` gives for that pc;
#   - a 24 KiB frame: new > 2 x old, the size copystack really got;
#   - --format json: every line parses, every field present, same events;
#   - --format folded: counts add up to the events;
#   - --every N: exactly floor(count/N) events; --max-events N: N events and
#     the program still runs to its end.
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools gdb go python3
[ "$ANA_STUB" = gdbserver ] && ana_need_tools gdbserver
ana_build grow_recurse grow_bigframe
export GOMAXPROCS=1 GOGC=off
R=$ANA_TARGETS/grow_recurse
B=$ANA_TARGETS/grow_bigframe
T=$ANA_T

# ---- text report and exactness
ana_gotap "$T/r.txt" "$T/r.err" --summary -- "$R"; rc=$?
ANA_EVIDENCE=$T/r.err ana_check growth.runs "gotap exited $rc" [ "$rc" -eq 0 ]
ANA_EVIDENCE=$T/r.err ana_check growth.program_output "the program's output is missing" \
	grep -q '^grow_recurse: goroutines 8 depth 1500' "$T/r.err" "$T/r.txt"
n=$(ana_events "$T/r.txt")
ANA_EVIDENCE=$T/r.txt ana_check growth.events "no growth events" [ "$n" -gt 0 ]

ana_gdb_growths "$R" "$T/gdb.txt"
g=$(sed -n 's/^GDB-GROWTHS \([0-9]*\)/\1/p' "$T/gdb.txt")
ANA_EVIDENCE=$T/gdb.txt ana_check growth.exact_count "gotap $n events, gdb counted ${g:-nothing}" \
	[ "${g:-x}" = "$n" ]
sed -n 's/^runtime: newstack: \([0-9]*\) -> \([0-9]*\) .*/\1 \2/p' "$T/r.txt" >"$T/r.sizes"
sed -n 's/^GROW \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$T/gdb.txt" >"$T/gdb.sizes"
diff "$T/gdb.sizes" "$T/r.sizes" >"$T/sizes.diff"
ANA_EVIDENCE=$T/sizes.diff ana_check growth.exact_sizes "the (old, new) sequence differs from gdb's" \
	[ ! -s "$T/sizes.diff" ]
echo "  (gotap: $n growths, gdb: ${g:-?} growths on grow_recurse; stub: $ANA_STUB)"

python3 - "$T/r.sizes" >"$T/pow2.txt" <<'PY'
import sys
bad = [l for l in open(sys.argv[1]) if not (lambda o, n: o >= 2048 and o & (o - 1) == 0 and n > o and n & (n - 1) == 0)(*map(int, l.split()))]
print("".join(bad), end="")
PY
ANA_EVIDENCE=$T/pow2.txt ana_check growth.sizes_pow2 "sizes that are not powers of two >= 2048 growing" \
	[ ! -s "$T/pow2.txt" ]

# first frames of main.recurse's events against gdb's line table
awk '/^runtime: newstack/ {getline; print}' "$T/r.txt" | grep ' : main\.recurse+' | sort -u >"$T/first.txt"
ANA_EVIDENCE=$T/r.txt ana_check growth.first_frame "no event starts in main.recurse" [ -s "$T/first.txt" ]
bad=0
: >"$T/lines.txt"
while read -r pc _ fn _ loc _; do
	want=$(gdb -batch -nx -ex "info line *($pc - 1)" "$R" 2>/dev/null |
		sed -n 's/^Line \([0-9]*\) of "\([^"]*\)".*/\2:\1/p' | head -1)
	echo "$pc $fn $loc gdb=$want" >>"$T/lines.txt"
	case "$loc" in */grow_recurse.go:*) ;; *) bad=1 ;; esac
	[ "$loc" = "$want" ] || bad=1
done <"$T/first.txt"
ANA_EVIDENCE=$T/lines.txt ana_check growth.first_frame_line "first frame file:line differs from gdb's info line" \
	[ "$bad" -eq 0 ]

# ---- a big frame: newstack doubles more than once
ana_gotap "$T/b.txt" "$T/b.err" -- "$B"
sed -n 's/^runtime: newstack: \([0-9]*\) -> \([0-9]*\) .*/\1 \2/p' "$T/b.txt" >"$T/b.sizes"
ANA_EVIDENCE=$T/b.txt ana_check growth.bigframe_more_than_double "no event with new > 2 x old" \
	awk '$2 > 2 * $1 {f = 1} END {exit !f}' "$T/b.sizes"
ana_gdb_growths "$B" "$T/bgdb.txt"
sed -n 's/^GROW \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$T/bgdb.txt" >"$T/bgdb.sizes"
diff "$T/bgdb.sizes" "$T/b.sizes" >"$T/bsizes.diff"
ANA_EVIDENCE=$T/bsizes.diff ana_check growth.bigframe_real_size "sizes differ from copystack's" \
	[ ! -s "$T/bsizes.diff" ]
grep -A1 '^runtime: newstack: 2048 -> 32768' "$T/b.txt" | grep -q ' : main\.bigframe+' &&
	ana_pass growth.bigframe_site || ana_fail growth.bigframe_site "2048 -> 32768 not reported at main.bigframe" "$T/b.txt"

# ---- JSON Lines
ana_gotap "$T/j.txt" "$T/j.err" --format json -- "$R"
python3 - "$T/j.txt" "$n" >"$T/json.chk" 2>&1 <<'PY'
import json, sys
want = int(sys.argv[2])
keys = {"time", "pid", "tid", "goid", "old", "new", "frames"}
fkeys = {"pc", "func", "off", "size", "file", "line", "module"}
n = 0
for i, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    n += 1
    miss = keys - o.keys()
    if miss: sys.exit(f"line {i}: missing {sorted(miss)}")
    if not o["frames"]: sys.exit(f"line {i}: no frames")
    for f in o["frames"]:
        if fkeys - f.keys(): sys.exit(f"line {i}: frame missing {sorted(fkeys - f.keys())}")
    if not (isinstance(o["old"], int) and isinstance(o["new"], int) and o["new"] > o["old"]):
        sys.exit(f"line {i}: bad sizes")
if n != want: sys.exit(f"{n} objects, text output had {want} events")
print("ok", n)
PY
ANA_EVIDENCE=$T/json.chk ana_check growth.json "JSON Lines check failed" grep -q '^ok' "$T/json.chk"

# ---- folded stacks
ana_gotap "$T/f.txt" "$T/f.err" --format folded -- "$R"
sum=$(awk '{s += $NF} END {print s + 0}' "$T/f.txt")
ANA_EVIDENCE=$T/f.txt ana_check growth.folded_sum "folded counts sum to $sum, not $n" [ "$sum" = "$n" ]
ANA_EVIDENCE=$T/f.txt ana_check growth.folded_format "a line is not 'frame;frame... COUNT'" \
	awk '!/^[^ ]+ [0-9]+$/ {bad = 1} END {exit bad}' "$T/f.txt"

# ---- --every and --max-events
for every in 1 7 10 1000; do
	ana_gotap "$T/e.txt" "$T/e.err" --every "$every" -- "$R"
	got=$(ana_events "$T/e.txt")
	want=$((n / every))
	ANA_EVIDENCE=$T/e.err ana_check "growth.every_$every" "$got events, floor($n/$every) = $want" [ "$got" -eq "$want" ]
done
ana_gotap "$T/m.txt" "$T/m.err" --max-events 5 -- "$R"; rc=$?
got=$(ana_events "$T/m.txt")
ANA_EVIDENCE=$T/m.err ana_check growth.max_events "$got events (want 5), exit $rc" [ "$got" -eq 5 -a "$rc" -eq 0 ]
ANA_EVIDENCE=$T/m.err ana_check growth.max_events_program_finishes "the program did not run to its end" \
	grep -q '^grow_recurse: goroutines 8' "$T/m.err" "$T/m.txt"
exit 0
