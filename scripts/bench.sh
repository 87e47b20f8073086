#!/usr/bin/env bash
# bench.sh — what `make bench` runs (issue 6): the cost of watching every
# goroutine stack growth of a Go program, gotap against the bare ptrace loop,
# gdb and gdbserver + gdb (and bpftrace where it works), on one workload.
#
# Builds tests/bench/growth.go and tests/bench/ptrace_floor.c into
# build/bench/, runs every tool a few times at a few goroutine counts G (the
# workload makes 4*G+1 growths), takes medians and prints ONE table:
#   tool, G, events seen, wall time, per-event µs, ratio to the bare loop,
#   growths lost
# where per-event µs is the marginal cost of one more growth, without the
# tool's start-up and the program's own work:
#   ((T(G) - T(1)) - (Tnative(G) - Tnative(1))) / (E(G) - E(1))
# in wall time and in CPU time (user + sys of every process of a run); each
# run of a tool is paired with a run of the program alone just before or after it (alternately), so
# both see the same machine load.  E = growths counted in the kernel by
# bpftrace (or 4*G+1 without it).
# Goal 3 (scales) gets its own runs: gotap --mode=trace at GOMAXPROCS 1 and 8;
# with 10 ... 100,000 goroutines parked for the whole run (growth -idle N),
# the same growths, each run paired with the program alone with the same
# parked goroutines; and the peak RSS (VmHWM, recorded at exit by the
# LD_PRELOAD library tests/bench/hwm.c) of gotap and gotap-stub in every gotap
# run, compared between the smallest (G=1000) and the biggest full-report run.
# Goal 5 (start-up) too: the time from starting gotap to its first report
# line on the ~2 MB workload (-g 1) against gdb -batch loading its symbols
# (`info line runtime.newstack`), median of 5 runs each.
# The table (tests/bench/table.py) goes,
# with the date and the machine, into tests/bench/RESULTS.md (between the
# "bench:full" or "bench:quick" markers; the rest of the file is kept).
# Raw times and logs: build/bench/.
#
# Usage: scripts/bench.sh BINDIR        (BINDIR holds gotap and gotap-stub)
#   BENCH_QUICK=1   ~2 minute smoke test: fewer runs, smaller G (default: ~8 minutes)
#   BENCH_ONLY=RE   run only the tools whose name matches RE (plus the
#                   uninstrumented and independent-count runs and the bare
#                   loop, the yardstick of the ratios)
#   BENCH_NO_RESULTS=1  print the table, leave RESULTS.md alone
#   BENCH_OUT=DIR   raw times and logs there (default build/bench)
# Needs: go, gcc, python3 (all in scripts/deps.sh); gdb, gdbserver, bpftrace
# are used when installed, else their rows are left out (a note says so).  bpftrace needs
# root; if tracefs is not mounted it mounts it (it detaches uprobes there).
# Delve is not in Debian 12: not measured.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${1:?usage: scripts/bench.sh BINDIR}
bindir=$(cd "$bindir" && pwd)
for p in gotap gotap-stub; do
	[ -x "$bindir/$p" ] || { echo "bench: $bindir/$p is missing: run make first" >&2; exit 1; }
done
quick=${BENCH_QUICK:-0}
only=${BENCH_ONLY:-}
out=${BENCH_OUT:-$root/build/bench}
mkdir -p "$out" && out=$(cd "$out" && pwd)
logs=$out/logs
mkdir -p "$logs"
rm -f "$logs"/*.log
times=$out/times.tsv
: > "$times"

# ---- build ---------------------------------------------------------------
export GOCACHE=${GOCACHE:-$root/build/gocache} GO111MODULE=off GOFLAGS=${GOFLAGS:--buildvcs=false}
(cd "$root/tests/bench" && go build -o "$out/growth" growth.go) || { echo "bench: go build failed" >&2; exit 1; }
${CC:-cc} -O2 -std=c11 -Wall -Wextra -o "$out/ptrace_floor" "$root/tests/bench/ptrace_floor.c" ||
	{ echo "bench: building ptrace_floor failed" >&2; exit 1; }
${CC:-cc} -O2 -std=c11 -Wall -Wextra -shared -fPIC -o "$out/hwm.so" "$root/tests/bench/hwm.c" ||
	{ echo "bench: building hwm.so failed" >&2; exit 1; }
prog=$out/growth
floor=$out/ptrace_floor
addr=$(go tool nm "$prog" | awk '$3 == "runtime.newstack" { print $1 }')   # ABIInternal, not .abi0
[ -n "$addr" ] || { echo "bench: runtime.newstack not found in $prog" >&2; exit 1; }

have() { command -v "$1" >/dev/null 2>&1; }
have_bpftrace=0
if have bpftrace && [ "$(id -u)" -eq 0 ]; then
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
	# the independent count: newstack entries, and copystack calls that grow
	# (newsize, in rbx, above the old size gp.stack.hi - gp.stack.lo, gp in rax;
	# Go ABIInternal registers) rather than shrink
	cat > "$out/count.bt" <<-EOF
	uprobe:$prog:runtime.newstack { @newstack = count(); }
	uprobe:$prog:runtime.copystack {
	  \$gp = reg("ax");
	  if (reg("bx") > *(uint64 *)(\$gp + 8) - *(uint64 *)\$gp) { @grow = count(); } else { @shrink = count(); }
	}
	EOF
	if bpftrace "$out/count.bt" -c "$prog -g 1 -d 100" >"$logs/bpftrace-probe.log" 2>&1 &&
		grep -q '^@grow: ' "$logs/bpftrace-probe.log"; then
		have_bpftrace=1
	fi
fi

# ---- runners: each takes G, runs one measurement, output to stdout/stderr ----
wl=(-d 100 -w 4)   # the workload's arguments but -g
run_native() { "$prog" -g "$1" "${wl[@]}"; }
run_native_procs() { GOMAXPROCS=$2 "$prog" -g "$1" "${wl[@]}"; }
run_native_idle() { "$prog" -g "$1" "${wl[@]}" -idle "$2"; }
run_floor() { "$floor" -m "$2" "$addr" -- "$prog" -g "$1" "${wl[@]}"; }
run_bpftrace() { bpftrace "$out/count.bt" -c "$prog -g $1 ${wl[*]}"; }
# gotap's two modes: --mode=stop (a breakpoint stop per newstack/copystack hit,
# the goroutine read over RSP) and --mode=trace (a copystack tracepoint
# collected in the stub, the trace buffer streamed while the program runs)
run_gotap_text() { "$bindir/gotap" --mode=stop --summary -- "$prog" -g "$1" "${wl[@]}" >/dev/null; }
run_gotap_procs() { GOMAXPROCS=$2 "$bindir/gotap" --mode=stop --summary -- "$prog" -g "$1" "${wl[@]}" >/dev/null; }
run_gotap_every() { "$bindir/gotap" --mode=stop --summary --every 1000 -- "$prog" -g "$1" "${wl[@]}" >/dev/null; }
run_gotap_trace() { "$bindir/gotap" --mode=trace --summary -- "$prog" -g "$1" "${wl[@]}" >/dev/null; }
run_gotap_trace_every() { "$bindir/gotap" --mode=trace --summary --every 1000 -- "$prog" -g "$1" "${wl[@]}" >/dev/null; }
run_gotap_trace_procs() { GOMAXPROCS=$2 "$bindir/gotap" --mode=trace --summary -- "$prog" -g "$1" "${wl[@]}" >/dev/null; }
# $2 goroutines parked during the whole run (growth -idle)
run_gotap_trace_idle() { "$bindir/gotap" --mode=trace --summary -- "$prog" -g "$1" "${wl[@]}" -idle "$2" >/dev/null; }
# the stub's fallback way past a breakpoint, all-stop + single-step (pt_step.c),
# instead of its emulation / displaced stepping: what that lever is worth
run_gotap_stopall() { GOTAP_PT_STEPOVER=stopall "$bindir/gotap" --mode=stop --summary -- "$prog" -g "$1" "${wl[@]}" >/dev/null; }
run_gotap_json() { "$bindir/gotap" --mode=stop --summary --format json -o /dev/null -- "$prog" -g "$1" "${wl[@]}"; }
# goal 5, start-up: seconds from starting gotap (its default mode) to its
# first report line, on the workload at -g 1 (a ~2 MB Go binary); the
# yardstick: gdb -batch loading the same binary's symbols, nothing run.  Both
# timed inside the runner, so that one_run's own start-up is in neither.
run_startup_gotap() {
	local t0=$EPOCHREALTIME
	"$bindir/gotap" -- "$prog" -g "$1" "${wl[@]}" | {
		IFS= read -r line; t1=$EPOCHREALTIME; cat >/dev/null
		[ -n "$line" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { printf "first_report_s=%.4f\n", b - a }'
		printf '%s\n' "$line"
	}
}
run_startup_gdb() {
	local t0=$EPOCHREALTIME t1
	gdb -batch -nx -ex 'info line runtime.newstack' "$prog" || return
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "elapsed_s=%.4f\n", b - a }'
}
run_gdb() {
	gdb -batch -nx -x "$root/tests/bench/gdb-count.gdb" -ex run -ex 'printf "HITS %d\n", $n' \
		--args "$prog" -g "$1" "${wl[@]}"
}
# start a TCP stub on a free port (:0), wait for "Listening on port N": sets
# stub_pid and stub_port.  $1 = log file, rest = the stub's command line.
start_stub() {
	local log=$1; shift
	"$@" >"$log" 2>&1 &
	stub_pid=$!
	stub_port=
	local i
	for ((i = 0; i < 1000; i++)); do
		stub_port=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$log" 2>/dev/null)
		[ -n "$stub_port" ] && return 0
		kill -0 "$stub_pid" 2>/dev/null || break
		sleep 0.005
	done
	echo "bench: stub did not start: $*" >&2
	kill "$stub_pid" 2>/dev/null
	return 1
}
# gdb over TCP loopback to a remote stub ($2: gdbserver or gotap-stub)
run_remote_gdb() {
	local slog=$out/stub.$$.log
	start_stub "$slog" "$2" --once :0 "$prog" -g "$1" "${wl[@]}" || return 1
	gdb -batch -nx -x "$root/tests/bench/gdb-count.gdb" -ex "target remote 127.0.0.1:$stub_port" \
		-ex continue -ex 'printf "HITS %d\n", $n' "$prog"
	wait "$stub_pid"
	cat "$slog" >&2
}
run_gdbserver_gdb() { run_remote_gdb "$1" gdbserver; }
run_stub_gdb() { run_remote_gdb "$1" "$bindir/gotap-stub"; }
# gotap against gotap-stub over TCP loopback instead of the pipe it spawns
run_gotap_tcp() {
	local slog=$out/stub.$$.log
	start_stub "$slog" "$bindir/gotap-stub" --once :0 "$prog" -g "$1" "${wl[@]}" || return 1
	"$bindir/gotap" --mode=stop --summary --remote "127.0.0.1:$stub_port" --binary "$prog" >/dev/null
	wait "$stub_pid"
	cat "$slog" >&2
}

# one_run LOG RUNNER G [ARGS...]: run the runner once, in a fresh bash under
# a 300 s timeout, output appended to LOG.  Prints "WALL CPU STATUS": seconds
# of wall time, seconds of CPU (user + sys of every process it started, the
# traced program included: all of them are reaped in the tree), exit status.
# With PIN=CPUS, the run (all its processes) is confined to those CPUs.
# With HWM=1, the runner's processes load hwm.so, and the "hwm COMM PID kB"
# lines of those that exited normally (peak RSS) are appended to LOG.
one_run() {
	local log=$1 t0 t1 rc cpuf=$out/cpu.$$ hwmf=$out/hwm.$$ pre=; shift
	rm -f "$cpuf" "$hwmf"
	[ "${HWM:-0}" = 1 ] && pre="export LD_PRELOAD=$out/hwm.so BENCH_HWM_FILE=$hwmf;"
	local pin=(); [ -n "${PIN:-}" ] && pin=(taskset -c "$PIN")   # every process of the run on those CPUs
	t0=$EPOCHREALTIME
	"${pin[@]}" timeout 300 bash -c "$(declare -f); $(declare -p prog floor addr bindir root out logs wl)
		$pre $*; rc=\$?; times >$cpuf; exit \$rc" >>"$log" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" -v rc="$rc" '
		NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); cpu = u[1] * 60 + u[2] + s[1] * 60 + s[2] }
		END { printf "%.4f\t%.4f\t%s\n", b - a, cpu, rc }' "$cpuf" 2>/dev/null ||
		printf '%s\t0\t%s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')" "$rc"
	if [ -f "$hwmf" ]; then cat "$hwmf" >>"$log"; rm -f "$hwmf"; fi
}

# measure NAME G RUNS RUNNER [ARGS...]: RUNS runs of "RUNNER G ARGS", each
# paired with a run of the uninstrumented program just before or after it (BASE,
# default run_native, with the same G and ARGS), so that both see the same
# machine load.  One line per run in times.tsv:
#   NAME G WALL CPU STATUS BASE_WALL BASE_CPU
# Output goes to logs/NAME.G.log, after an "@@run N" line per run.
measure() {
	local name=$1 g=$2 runs=$3 i base=${BASE:-run_native} b r; shift 3
	case $name in
	native* | bpftrace) base=- ;;
	startup_*) [ -n "$only" ] && ! [[ $name =~ $only ]] && return; base=- ;;
	floor_emulate) ;;   # the yardstick of every ratio: always measured
	*) [ -n "$only" ] && ! [[ $name =~ $only ]] && return ;;
	esac
	local log=$logs/$name.$g.log
	printf '  %-14s G=%-6s x%s ' "$name" "$g" "$runs" >&2
	for ((i = 0; i < runs; i++)); do
		b=$'0\t0'
		# the pair's order alternates (base first on even runs, second on
		# odd ones), so that an effect of the order (the memory the run
		# before gave back, caches) does not bias the differences
		if [ "$base" != - ] && ((i % 2 == 0)); then
			b=$(one_run "$logs/base.log" "$base" "$g" "${@:2}" | cut -f1,2)
		fi
		echo "@@run $i" >>"$log"
		# peak RSS of gotap and gotap-stub (not of the baselines, nor of gdb)
		r=$(HWM=$([[ $name == gotap* ]] && echo 1 || echo 0) one_run "$log" "$1" "$g" "${@:2}")
		if [ "$base" != - ] && ((i % 2 == 1)); then
			b=$(one_run "$logs/base.log" "$base" "$g" "${@:2}" | cut -f1,2)
		fi
		printf '%s\t%s\t%s\t%s\n' "$name" "$g" "$r" "$b" >>"$times"
		printf '.' >&2
	done
	printf '\n' >&2
}

# ---- plan ------------------------------------------------------------------
# G per tool so each slow tool runs a few seconds: the bare loop and bpftrace
# at 100k growths, gdb at ~4-10k (gdbserver/gotap-stub + gdb over TCP at 2k:
# on a loaded machine each of their runs can take a minute), gotap (~1-2 ms per event today) at ~1-4k
# (GOMAXPROCS=8 costs 2-4x more per event: 250).  Quick: a smoke test, too
# few events for stable per-event figures.
# Trace mode (~0.1 ms per reported event, ~20 us per counted one) runs at larger G;
# its smallest G_TRACE (1000) and biggest run give the memory figures of goal 3.
# G_IDLE growths with each of IDLE_N goroutines parked (goal 3: 100,000 parked
# goroutines take ~0.7 s of CPU to start, and ~270 MB: quick stops at 10,000).
# RI: runs of those (more than RS: with 100,000 parked a run's wall time is
# mostly their start-up, ~1-3 s here, whose noise the medians must outweigh).
# RU: start-up runs.
if [ "$quick" = 1 ]; then
	R=3; RS=2; RB=1; G_FAST=5000; G_GOTAP="100"; G_GOTAP1=100; G_PROCS=50; G_GDB=100; G_GS=50
	G_TRACE="1000 5000"; G_TRACE_EVERY=5000; G_TRACE_PROCS=500; G_IDLE=1000; IDLE_N="10 10000"; RI=2; RU=5
	G_H2H=2500; RH=3
else
	R=5; RS=3; RB=3; G_FAST=25000; G_GOTAP="250 1000"; G_GOTAP1=1000; G_PROCS=250; G_GDB=2500; G_GS=500
	G_TRACE="1000 10000"; G_TRACE_EVERY=25000; G_TRACE_PROCS=2500; G_IDLE=25000; IDLE_N="10 1000 100000"; RI=5; RU=7
	G_H2H=25000; RH=7
fi
all_g=$(printf '%s\n' 1 $G_FAST $G_GOTAP $G_GOTAP1 $G_PROCS $G_GDB $G_GS $G_TRACE $G_TRACE_EVERY $G_TRACE_PROCS \
	$G_IDLE $G_H2H | sort -n -u)

echo "bench: $prog (runtime.newstack at 0x$addr), $(nproc) CPUs, $([ "$quick" = 1 ] && echo quick || echo full) run" >&2
for g in 1 $G_FAST; do measure native "$g" "$R" run_native; done   # the program's own cost
if [ $have_bpftrace = 1 ]; then
	for g in $all_g; do measure bpftrace "$g" "$RB" run_bpftrace; done
fi
for g in 1 $G_FAST; do
	measure floor_emulate "$g" "$R" run_floor emulate
	measure floor_stopall "$g" "$RS" run_floor stopall
	measure floor_step "$g" "$RS" run_floor step
done
for g in 1 $G_GOTAP; do measure gotap_text "$g" "$RS" run_gotap_text; done
for g in 1 $G_GOTAP1; do
	measure gotap_every "$g" "$RS" run_gotap_every
	measure gotap_json "$g" "$RS" run_gotap_json
	measure gotap_tcp "$g" "$RS" run_gotap_tcp
	measure gotap_stopall "$g" "$RS" run_gotap_stopall
done
for g in 1 $G_TRACE; do measure gotap_trace "$g" "$RS" run_gotap_trace; done
for g in 1 $G_TRACE_EVERY; do measure gotap_trace_every "$g" "$RS" run_gotap_trace_every; done
# goal 3: per-event cost with 1 and 8 Ps (GOMAXPROCS; this machine may have
# fewer CPUs), each run paired with the program alone at the same GOMAXPROCS
for p in 1 8; do
	for g in 1 $G_PROCS; do
		BASE=run_native_procs measure gotap_p$p "$g" "$RS" run_gotap_procs "$p"
	done
	for g in 1 $G_TRACE_PROCS; do
		BASE=run_native_procs measure gotap_trace_p$p "$g" "$RS" run_gotap_trace_procs "$p"
	done
done
# goal 3: the same growths with N goroutines parked, paired with the program
# alone with the same N parked
for n in $IDLE_N; do
	for g in 1 $G_IDLE; do
		BASE=run_native_idle measure gotap_trace_i$n "$g" "$RI" run_gotap_trace_idle "$n"
	done
done
# goal 5: start-up
measure startup_gotap 1 "$RU" run_startup_gotap
if have gdb; then
	measure startup_gdb 1 "$RU" run_startup_gdb
	for g in 1 $G_GDB; do measure gdb "$g" "$RS" run_gdb; done
	if have gdbserver; then
		for g in 1 $G_GS; do measure gdbserver_gdb "$g" "$RS" run_gdbserver_gdb; done
	fi
	for g in 1 $G_GS; do measure stub_gdb "$g" "$RS" run_stub_gdb; done
fi

# goals 1 and 2 are ratios to the bare loop "measured in one run": besides the
# rows above (each tool's median, minutes apart), head-to-head rounds run the
# program alone, the bare loop, gotap's full report and gotap --every 1000 one
# after the other, at G=1 and G=G_H2H, the order rotating from round to round;
# a round's ratio divides the tool's per-event cost by the bare loop's of the
# same round (both net of the same round's uninstrumented runs), and the goals
# are judged on the median ratio.  This machine's cost of a ptrace stop moves
# by 2-5x within minutes (another guest's load: a cross-CPU wake-up, or a
# tracer spinning in wait_task_inactive while the tracee's vCPU is not
# running), so ratios of figures taken minutes apart were not stable.  The
# same rounds run once more with every process on one CPU (taskset -c 0: no
# cross-CPU wake-up at all), the steadiest figure this machine gives.
# h2h.tsv: "SET ROUND NAME G WALL CPU STATUS" per run; logs/h2h_SET_NAME.G.log.
h2h=$out/h2h.tsv
: >"$h2h"
h2h_round() {   # SET ROUND PIN
	local set=$1 r=$2 pin=$3 k name g runner t
	local names=(native floor trace every) n=4
	for ((k = 0; k < n; k++)); do
		name=${names[(k + r) % n]}
		case $name in
		native) runner=run_native ;;
		floor) runner="run_floor emulate" ;;
		trace) runner=run_gotap_trace ;;
		every) runner=run_gotap_trace_every ;;
		esac
		for g in 1 $G_H2H; do
			echo "@@run $r" >>"$logs/h2h_${set}_$name.$g.log"
			# $runner is "FUNCTION [MODE]": the G goes after the function name
			local fn=${runner%% *} rest=
			[ "$fn" != "$runner" ] && rest=${runner#* }
			t=$(PIN=$pin one_run "$logs/h2h_${set}_$name.$g.log" "$fn" "$g" $rest)
			printf '%s\t%s\t%s\t%s\t%s\n' "$set" "$r" "$name" "$g" "$t" >>"$h2h"
		done
	done
}
if [ -z "$only" ] || [[ h2h =~ $only ]] || [[ gotap_trace =~ $only ]]; then
	for set in any cpu0; do
		pin=; [ $set = cpu0 ] && pin=0
		printf '  h2h %-10s G=%-6s x%s ' "$set" "$G_H2H" "$RH" >&2
		for ((r = 0; r < RH; r++)); do h2h_round "$set" "$r" "$pin"; printf '.' >&2; done
		printf '\n' >&2
	done
fi

# ---- table -----------------------------------------------------------------
notes=()
[ $have_bpftrace = 1 ] || notes+=("bpftrace: not run (not installed, not root, or uprobes do not work here); E = 4*G+1")
have gdb || notes+=("gdb: not installed, its rows are missing")
have gdbserver || notes+=("gdbserver: not installed, its row is missing")
notes+=("dlv: not in Debian 12, not measured")
[ "$quick" = 1 ] && notes+=("BENCH_QUICK: a smoke test with few events and runs; its per-event figures and goal verdicts are not stable (use the full run)")
table=$(BENCH_H2H=$h2h python3 "$root/tests/bench/table.py" "$times" "$logs" "${notes[@]}") || exit 1
echo
echo "$table"

[ "${BENCH_NO_RESULTS:-0}" = 1 ] && exit 0
section=$([ "$quick" = 1 ] && echo quick || echo full)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
	echo "<!-- bench:$section:begin (written by scripts/bench.sh; edit outside these markers) -->"
	echo "### \`make bench\`$([ "$quick" = 1 ] && echo ' (BENCH_QUICK=1)'), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) CPUs ($cpu), kernel $(uname -r), $(go version | awk '{ print $3 }'),"
	echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg); gotap and gotap-stub built"
	echo "$(date -u -r "$bindir/gotap" '+%Y-%m-%d %H:%M UTC'), tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD -- stub analyzer protocol 2>/dev/null || echo ' + local changes')."
	echo
	echo "$table"
	echo "<!-- bench:$section:end -->"
} >"$out/section.md"
python3 - "$root/tests/bench/RESULTS.md" "$out/section.md" "$section" <<'EOF'
import re, sys
path, sec_file, name = sys.argv[1:4]
sec = open(sec_file).read().rstrip("\n")
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# gotap benchmark results (`make bench`)\n\n"
pat = re.compile(r"<!-- bench:%s:begin.*?<!-- bench:%s:end -->" % (name, name), re.S)
text = pat.sub(lambda m: sec, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + sec + "\n"
open(path, "w").write(text)
EOF
echo "bench: table written to tests/bench/RESULTS.md ($section)" >&2
