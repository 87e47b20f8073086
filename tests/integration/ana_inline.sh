#!/usr/bin/env bash
# ana_inline.sh — inlined calls in gotap's backtraces, against gdb's `bt`.
# tests/targets/go/inline_grow.go grows once, always in main.big, called from
# main.helper, which the compiler inlines into main.caller.  What a user sees:
#   - trace mode and stop mode: main.big, then "main.helper (inlined)" at its
#     call of big, then main.caller at its call of helper — the functions and
#     lines gdb's `bt` shows for the same frames (gdb stopped in main.big);
#   - JSON: the helper frame has "inlined": true, no offset;
#   - --no-inline: one line per physical frame, as stap's print_ubacktrace:
#     main.caller at helper's line, no "(inlined)".
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools gdb go python3
[ "$ANA_STUB" = gdbserver ] && ana_need_tools gdbserver
ana_build inline_grow
P=$ANA_TARGETS/inline_grow
SRC=$ANA_ROOT/tests/targets/go/inline_grow.go
T=$ANA_T
hl=$(grep -n 'HELPER-CALL' "$SRC" | cut -d: -f1)
cl=$(grep -n 'CALLER-CALL' "$SRC" | cut -d: -f1)

# gdb's view: stopped at main.big's first line, frames 1 and 2 of `bt`
gdb -batch -nx -iex 'set auto-load no' -ex 'break main.big' -ex run -ex bt "$P" >"$T/gdb.txt" 2>&1
sed -n 's/^#[12] .* \(main\.[a-z]*\) (.*) at .*inline_grow\.go:\([0-9]*\)$/\1 \2/p; s/^#[12]  \(main\.[a-z]*\) (.*) at .*inline_grow\.go:\([0-9]*\)$/\1 \2/p' \
	"$T/gdb.txt" | sort -u >"$T/gdb.frames"
printf 'main.caller %s\nmain.helper %s\n' "$cl" "$hl" >"$T/want.frames"
ANA_EVIDENCE=$T/gdb.txt ana_check inline.gdb_bt "gdb's bt does not show helper inlined into caller at lines $hl, $cl" \
	diff -q "$T/want.frames" "$T/gdb.frames"

# the growth's frames 1 and 2, as gotap prints them
frames12() {   # REPORT -> "func line" of the two lines after main.big's
	awk '/^runtime: newstack/ {ev = 1; k = 0; next} ev && k < 3 {print; k++}' "$1" |
		sed -n '2,3p' |
		sed -n 's/^ 0x[0-9a-f]* : \(main\.[a-z]*\)[+ ].* at .*inline_grow\.go:\([0-9]*\) \[.*/\1 \2/p' | sort -u
}
for mode in trace stop; do
	ana_gotap "$T/$mode.txt" "$T/$mode.err" --mode=$mode -- "$P"; rc=$?
	ANA_EVIDENCE=$T/$mode.err ana_check inline.$mode.runs "gotap --mode=$mode exited $rc" [ "$rc" -eq 0 ]
	grep -A3 '^runtime: newstack: 2048 -> 16384' "$T/$mode.txt" >"$T/$mode.event"
	ANA_EVIDENCE=$T/$mode.txt ana_check inline.$mode.frame0 "no growth starting in main.big" \
		grep -q '^ 0x[0-9a-f]* : main\.big+0x' "$T/$mode.event"
	frames12 "$T/$mode.event" >"$T/$mode.frames"
	ANA_EVIDENCE=$T/$mode.event ana_check inline.$mode.same_as_gdb \
		"frames 1-2 differ from gdb's bt (helper inlined at $hl, caller at $cl)" \
		diff -q "$T/gdb.frames" "$T/$mode.frames"
	ANA_EVIDENCE=$T/$mode.event ana_check inline.$mode.marked "the helper frame is not marked (inlined) without offset" \
		grep -q "^ 0x[0-9a-f]* : main\.helper (inlined) at .*inline_grow\.go:$hl \[" "$T/$mode.event"
done

# JSON: the same frames, helper marked inlined
ana_gotap "$T/j.txt" "$T/j.err" --format json -- "$P"; rc=$?
python3 - "$T/j.txt" "$hl" "$cl" >"$T/j.check" 2>&1 <<'PY'
import json, sys
hl, cl = int(sys.argv[2]), int(sys.argv[3])
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ev = [e for e in evs if e["frames"] and e["frames"][0]["func"] == "main.big"]
assert len(ev) == 1, "events starting in main.big: %d" % len(ev)
f = ev[0]["frames"]
got = [(x["func"], x["line"], x["inlined"], x["off"]) for x in f[1:3]]
assert got[0][:3] == ("main.helper", hl, True) and got[0][3] == 0, got
assert got[1][:3] == ("main.caller", cl, False) and got[1][3] > 0, got
assert f[1]["pc"] == f[2]["pc"], "one pc for the inline chain"
print("ok")
PY
ANA_EVIDENCE=$T/j.check ana_check inline.json "JSON frames: $(tail -1 "$T/j.check")" \
	[ "$rc" -eq 0 -a "$(tail -1 "$T/j.check")" = ok ]

# --no-inline: stap's one line per physical frame
ana_gotap "$T/n.txt" "$T/n.err" --no-inline -- "$P"; rc=$?
grep -A3 '^runtime: newstack: 2048 -> 16384' "$T/n.txt" >"$T/n.event"
ok=no
[ "$rc" -eq 0 ] && ! grep -q '(inlined)' "$T/n.txt" &&
	sed -n 3p "$T/n.event" | grep -q "^ 0x[0-9a-f]* : main\.caller+0x[0-9a-f]*/0x[0-9a-f]* at .*inline_grow\.go:$hl \[" &&
	ok=yes
ANA_EVIDENCE=$T/n.event ana_check inline.no_inline \
	"--no-inline: want main.caller at helper's line $hl right after main.big, no (inlined)" [ "$ok" = yes ]
echo "  (helper inlined at line $hl, caller at line $cl; stub: $ANA_STUB)"
exit 0
