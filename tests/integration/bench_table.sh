#!/usr/bin/env bash
# bench_table.sh — the goal verdicts `make bench` prints (tests/bench/table.py)
# from known raw times: per-event cost net of the program's own work, the
# head-to-head rounds' median of per-round ratios (goals 1-2), lost growths,
# and the fallback to the per-tool rows when no head-to-head ran.
#
# The figures are made up so that each verdict is decided by the method:
# in the head-to-head, the bare loop's cost moves 6x between rounds (as on a
# shared machine) and gotap costs FULL_X times the same round's bare loop in
# three rounds of five (FULL_X + 0.6 in the two where the bare loop was
# cheapest): the median of the per-round ratios is FULL_X, while the ratio of
# the two medians would be FULL_X + 0.6 (with 1.9: 2.5, "not met").
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${GOTAP_TMP:-/tmp}/bench_table.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

gen() {   # DIR FULL_X EVERY_X LOST: synthetic raw data into DIR
	python3 - "$@" <<'EOF'
import os, sys
d, full_x, every_x, lost = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
os.makedirs(f"{d}/logs", exist_ok=True)
G = 10000
E = 4 * G + 1              # no bpftrace log: table.py uses 4G+1
de = E - 5
# the per-tool rows: the bare loop and gotap medians taken minutes apart
with open(f"{d}/times.tsv", "w") as t:
    for name, g, pe in (("native", 1, 0), ("native", G, 0), ("floor_emulate", 1, 0),
                        ("floor_emulate", G, 10), ("gotap_trace", 1, 0), ("gotap_trace", G, 50),
                        ("gotap_trace_every", 1, 0), ("gotap_trace_every", G, 30)):
        base = 0.01 if g == 1 else 0.2
        wall = base + pe * 1e-6 * de
        bw = 0 if name.startswith("native") else base
        for _ in range(3):
            t.write(f"{name}\t{g}\t{wall:.6f}\t{wall:.6f}\t0\t{bw}\t{bw}\n")
def summary(n):
    return f"gotap summary: {n} stack growths ({n} reported)\n"
for name, g in (("gotap_trace", 1), ("gotap_trace", G), ("gotap_trace_every", 1), ("gotap_trace_every", G)):
    with open(f"{d}/logs/{name}.{g}.log", "w") as f:
        for r in range(3):
            f.write(f"@@run {r}\n" + summary(4 * g + 1))
# head-to-head: the bare loop at 10, 30, 20, 5, 12 µs per growth in the 5
# rounds; gotap at full_x / every_x times that round's bare loop in rounds
# 0-2, 0.6 / 0.3 more in rounds 3-4
with open(f"{d}/h2h.tsv", "w") as h:
    for st in ("any", "cpu0"):
        for r, floor in enumerate((10, 30, 20, 5, 12)):
            fx, ex = (full_x, every_x) if r < 3 else (full_x + 0.6, every_x + 0.3)
            for name, pe in (("native", 0), ("floor", floor), ("trace", floor * fx),
                             ("every", floor * ex)):
                for g in (1, G):
                    base = 0.01 if g == 1 else 0.2
                    v = base + (pe * 1e-6 * de if g == G else 0)
                    h.write(f"{st}\t{r}\t{name}\t{g}\t{v:.6f}\t{v:.6f}\t0\n")
            for name in ("trace", "every"):
                for g in (1, G):
                    with open(f"{d}/logs/h2h_{st}_{name}.{g}.log", "a") as f:
                        n = 4 * g + 1 - (lost if (name == "trace" and g == G and st == "any") else 0)
                        f.write(f"@@run {r}\n" + summary(n))
EOF
}

table() {   # DIR [h2h]: the table table.py prints
	if [ "${2:-}" = h2h ]; then
		BENCH_H2H=$1/h2h.tsv python3 "$root/tests/bench/table.py" "$1/times.tsv" "$1/logs"
	else
		python3 "$root/tests/bench/table.py" "$1/times.tsv" "$1/logs"
	fi
}

check() {   # NAME FILE REGEX: PASS if a line of FILE matches REGEX
	if grep -Eq -- "$3" "$2"; then
		echo "PASS: bench_table.$1"
	else
		echo "FAIL: bench_table.$1: no line matches /$3/"
		sed 's/^/  | /' "$2"
	fi
}

# 1. within the goals: full 1.9x, every 1.15x each round
gen "$tmp/ok" 1.9 1.15 0 || { echo "FAIL: bench_table.gen: python3 failed"; exit 1; }
table "$tmp/ok" h2h >"$tmp/ok.out" 2>&1 || { echo "FAIL: bench_table.run: table.py failed"; sed 's/^/  | /' "$tmp/ok.out"; exit 1; }
check h2h_full_met "$tmp/ok.out" '^- 1\. full report <= 2x bare loop: 1\.90x wall, 1\.90x CPU \(median of 5 head-to-head rounds at G=10000; every round.s ratio 1\.90x-2\.50x wall\); all on one CPU: 1\.90x wall, 1\.90x CPU \(met\)$'
check h2h_every_met "$tmp/ok.out" '^- 2\. --every 1000 <= 1\.2x bare loop: 1\.15x wall, 1\.15x CPU .*\(met\)$'
check h2h_floor_median "$tmp/ok.out" '^\| any CPU \(as the rows above\) \| 5 \| 12\.0 / 12\.0 \| 30\.0 / 30\.0 \| 1\.90x / 1\.90x \[1\.90x-2\.50x\]'
check zero_lost "$tmp/ok.out" '^- 4\. zero lost: met'

# 2. just over: full 2.05x (printed 2.05, not rounded to "2.0x ... not met")
gen "$tmp/over" 2.05 1.25 0
table "$tmp/over" h2h >"$tmp/over.out" 2>&1
check h2h_full_not_met "$tmp/over.out" '^- 1\. full report <= 2x bare loop: 2\.05x wall, .*\(not met\)$'
check h2h_every_not_met "$tmp/over.out" '^- 2\. --every 1000 <= 1\.2x bare loop: 1\.25x wall, .*\(not met\)$'

# 3. a growth the head-to-head's gotap missed fails goal 4
gen "$tmp/lost" 1.5 1.1 3
table "$tmp/lost" h2h >"$tmp/lost.out" 2>&1
check h2h_lost "$tmp/lost.out" '^- 4\. zero lost: not met: h2h any trace G=10000 lost 3$'

# 4. without head-to-head rounds the rows decide (medians minutes apart): 5x and 3x
table "$tmp/ok" >"$tmp/rows.out" 2>&1
check rows_full "$tmp/rows.out" '^- 1\. full report <= 2x bare loop: 5\.00x wall, 5\.0x CPU at G=10000, gotap_trace \(not met\)$'
check rows_every "$tmp/rows.out" '^- 2\. --every 1000 <= 1\.2x bare loop: 3\.00x wall, 3\.0x CPU at G=10000, gotap_trace_every \(not met\)$'
