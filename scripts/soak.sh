#!/usr/bin/env bash
# soak.sh — what `make soak` runs (issue 7, item 6): one long gotap session,
# about a million stack-growth events, watching the memory of the stub and of
# the analyzer.  Not part of `make test` (it takes minutes).
#
# Workload: tests/bench/growth.go with -g G -d 100 (each goroutine grows
# 2K->4K->8K->16K->32K), i.e. 4*G+1 growth events; G=250000 gives 1,000,001.
# gotap -- growth reports every event in full (sizes, goid, backtrace) as
# JSON Lines into a file that is only counted, and prints --summary.  Every
# second the VmRSS of gotap and of its gotap-stub is sampled.
#
# Prints: events expected (4G+1), growths gotap counted, events written,
# events lost; for each process the RSS after warm-up (first sample after
# SOAK_WARMUP seconds), the last sample and the largest.  Exit status 0 iff
# nothing was lost and neither RSS grew by more than max(2 MiB, 10%) between
# warm-up and the end.
#
# Usage: scripts/soak.sh BINDIR
#   SOAK_G=250000   goroutines (events = 4*G+1)
#   SOAK_W=4        goroutines running at once
#   SOAK_WARMUP=5   seconds before the first ("after warm-up") sample
#   SOAK_EVERY=1    --every N (1: report every event)
# Logs: build/soak/.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=$(cd "${1:?usage: scripts/soak.sh BINDIR}" && pwd)
G=${SOAK_G:-250000}
W=${SOAK_W:-4}
WARMUP=${SOAK_WARMUP:-5}
EVERY=${SOAK_EVERY:-1}
out=$root/build/soak
mkdir -p "$out"
for p in gotap gotap-stub; do
	[ -x "$bindir/$p" ] || { echo "soak: $bindir/$p is missing: run make first" >&2; exit 1; }
done
export GOCACHE=${GOCACHE:-$root/build/gocache} GO111MODULE=off GOFLAGS=${GOFLAGS:--buildvcs=false}
(cd "$root/tests/bench" && go build -o "$out/growth" growth.go) || { echo "soak: go build failed" >&2; exit 1; }

expected=$((4 * G + 1))
echo "soak: growth -g $G -w $W -d 100 under gotap (--every $EVERY): $expected growth events expected"
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

# GODEBUG=adaptivestackstart=0: since Go 1.19 the runtime starts new goroutines
# with the average stack size it has seen at the last GCs, so after a few GCs
# most goroutines need fewer than 4 growths and 4*G+1 no longer holds (a
# 1M-event soak with it on counted 807,227 growths for 250,000 goroutines).
GODEBUG=${GODEBUG:+$GODEBUG,}adaptivestackstart=0 \
GOTAP_STUB=$bindir/gotap-stub "$bindir/gotap" --summary --format json --every "$EVERY" \
	-o "$out/events.jsonl" -- "$out/growth" -g "$G" -w "$W" -d 100 \
	>"$out/gotap.out" 2>"$out/gotap.err" &
gpid=$!
trap 'kill -TERM "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null' INT TERM
start=$(date +%s)
spid="" a_first="" s_first="" a_last="" s_last="" a_max=0 s_max=0 samples=0
: >"$out/rss.tsv"
while kill -0 "$gpid" 2>/dev/null; do
	sleep 1
	[ -n "$spid" ] || spid=$(ps -o pid= --ppid "$gpid" -o comm= 2>/dev/null | awk '$2 == "gotap-stub" { print $1; exit }')
	a=$(rss "$gpid"); s=""
	[ -n "$spid" ] && s=$(rss "$spid")
	[ -n "$a" ] && [ -n "$s" ] || continue
	t=$(( $(date +%s) - start ))
	echo -e "$t\t$a\t$s" >>"$out/rss.tsv"
	[ "$t" -lt "$WARMUP" ] && continue
	samples=$((samples + 1))
	[ -n "$a_first" ] || { a_first=$a; s_first=$s; }
	a_last=$a; s_last=$s
	[ "$a" -gt "$a_max" ] && a_max=$a
	[ "$s" -gt "$s_max" ] && s_max=$s
done
wait "$gpid"
rc=$?
secs=$(( $(date +%s) - start ))
growths=$(sed -n 's/^gotap summary: \([0-9]*\) stack growths.*/\1/p' "$out/gotap.err" | tail -n 1)
written=$(wc -l <"$out/events.jsonl")
lost=$(( expected - ${growths:-0} ))
echo "soak: gotap exit status $rc after ${secs}s"
grep -E '^gotap summary|newstack entries' "$out/gotap.err"
echo "soak: events expected $expected, counted ${growths:-none}, written $written (every $EVERY), lost $lost"
status=0
[ "$rc" = 0 ] || status=1
[ "$lost" = 0 ] || status=1
flat() {   # FIRST LAST: LAST within max(2048 kB, 10%) of FIRST
	local lim=$(( $1 / 10 )); [ "$lim" -lt 2048 ] && lim=2048
	[ $(( $2 - $1 )) -le "$lim" ]
}
if [ "$samples" -gt 0 ]; then
	for who in gotap:$a_first:$a_last:$a_max gotap-stub:$s_first:$s_last:$s_max; do
		IFS=: read -r n f l m <<<"$who"
		v=flat; flat "$f" "$l" || { v=GREW; status=1; }
		echo "soak: $n VmRSS after ${WARMUP}s warm-up $f kB, last $l kB, max $m kB ($v; $samples samples in build/soak/rss.tsv)"
	done
else
	echo "soak: the run ended before the warm-up (${WARMUP}s): no RSS figures (raise SOAK_G)"
	status=1
fi
exit $status
