# shellcheck shell=bash disable=SC2034  # the GT_* globals are read by the scripts that source this
# common.sh — helpers for the integration scenarios (tests/integration/stub_*.sh).
#
# Every scenario runs the same gdb commands twice: once against the real
# gdbserver (side "ref") and once against the stub under test (side "sut",
# $GOTAP_BIN/gotap-stub), then checks what a user would see on each side and
# compares the lines that matter between the two.  Source this file, then:
#
#   gt_init stub_break              # temp dir, cleanup trap, watchdog, build targets
#   run() {                         # one side; $1 is ref or sut
#     gt_stub_start "$1" brk --once :0 "$GT_EXAMPLE" || return
#     gt_gdb "$1" brk "$GT_EXAMPLE" <<EOF
#   target remote $GT_ADDR
#   break main.say
#   continue
#   bt
#   EOF
#     gt_stub_wait "$1" brk
#   }
#   gt_each run                     # run for every side
#   gt_has   brk bt '^#0 +main\.say'   # "PASS: brk.bt[gdbserver]" / "[gotap-stub]"
#   gt_same  brk frames gt_k_frames    # "PASS: brk.frames[same]" (filtered lines equal)
#   gt_packets_check                # the E/empty-reply comparison of all sessions
#
# Output: one line per check, "PASS: name", "FAIL: name: why", "SKIP: name: why";
# the evidence for a FAIL follows on lines starting with "  | ".
#
# Environment:
#   GOTAP_BIN, GOTAP_BUILD  set by tests/run.sh (defaults: bin/, build/)
#   STUB_UNDER_TEST         path of the stub under test, or "gdbserver" to run
#                           the real gdbserver on both sides (proves the suite)
#   GT_SIDES                "ref sut" (default), or just one of them
#   GT_KEEP=1               keep the temp dir (its path is printed) for reading logs
#   GT_DEADLINE             seconds before a whole test file is aborted (default 540)
#   GT_GDB_TIMEOUT          seconds one gdb session may take (default 90: the suite
#                           shares the machine with builds and benchmarks; a session
#                           takes 1-3 s when the machine is idle)
#
# Every process a scenario starts runs in a session of its own (setsid), so the
# cleanup trap can kill each one together with everything it spawned (a stub's
# inferior, gdb's stdio stub), stopped or traced, without broad kills.

set -u

GT_ROOT=${GOTAP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GOTAP_BIN=${GOTAP_BIN:-$GT_ROOT/bin}
GOTAP_BUILD=${GOTAP_BUILD:-$GT_ROOT/build}
GT_TARGETS=$GOTAP_BUILD/targets
GT_EXAMPLE=$GT_TARGETS/example
GT_GOROUTINES=$GT_TARGETS/goroutines
GT_CPROG=$GT_TARGETS/gtcprog
GT_SIDES=${GT_SIDES:-ref sut}
GT_GDB_TIMEOUT=${GT_GDB_TIMEOUT:-90}

GT_SIDS=()        # session ids (= pids of session leaders) started by this test
GT_TEST=""
GT_T=""

# ---------------------------------------------------------------- results

gt_pass() { echo "PASS: $1"; }
gt_skip() { echo "SKIP: $1: $2"; }
# gt_fail NAME WHY [EVIDENCE-FILE]: one FAIL line, then up to 16 evidence lines.
gt_fail() {
	echo "FAIL: $1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then
		head -n 16 "$3" | sed 's/^/  | /'
	fi
}

# gt_label SIDE: the name a side has in check names.
gt_label() {
	case "$1" in
	ref) echo gdbserver ;;
	sut) if [ "${STUB_UNDER_TEST:-}" = gdbserver ]; then echo "gotap-stub=gdbserver"; else echo gotap-stub; fi ;;
	*) echo "$1" ;;
	esac
}

# gt_stub_cmd SIDE: the stub program of a side.
gt_stub_cmd() {
	if [ "$1" = ref ]; then
		command -v gdbserver
	else
		case "${STUB_UNDER_TEST:-}" in
		"") echo "$GOTAP_BIN/gotap-stub" ;;
		gdbserver) command -v gdbserver ;;
		*) echo "$STUB_UNDER_TEST" ;;
		esac
	fi
}

# gt_side_ok SIDE: true when the side's stub exists; else says why on stdout.
gt_side_ok() {
	local s
	s=$(gt_stub_cmd "$1")
	if [ -z "$s" ] || [ ! -x "$s" ]; then
		echo "stub not found: ${s:-gdbserver not installed}"
		return 1
	fi
}

# ---------------------------------------------------------------- processes

# gt_spawn OUT ERR CMD...: run CMD in the background in a session of its own,
# stdin from /dev/null, stdout/stderr to OUT/ERR.  Sets GT_PID.
gt_spawn() {
	local out=$1 err=$2
	shift 2
	setsid "$@" </dev/null >"$out" 2>"$err" &
	GT_PID=$!
	GT_SIDS+=("$GT_PID")
}

# gt_session_pids: pids of every live process in the sessions GT_WANT_SIDS names.
gt_session_pids() {
	local f rest sid want
	for f in /proc/[0-9]*/stat; do
		read -r rest 2>/dev/null <"$f" || continue
		rest=${rest##*) }        # fields after "pid (comm) "
		set -- $rest
		sid=${4:-}
		for want in "${GT_WANT_SIDS[@]}"; do
			if [ "$sid" = "$want" ]; then
				f=${f#/proc/}
				echo "${f%/stat}"
			fi
		done
	done
}

# gt_kill_sessions SID...: SIGKILL every process in those sessions, reap our children.
gt_kill_sessions() {
	[ $# -gt 0 ] || return 0
	local pids p
	GT_WANT_SIDS=("$@")
	pids=$(gt_session_pids)
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	for p in "$@"; do { wait "$p"; } 2>/dev/null; done
	return 0
}

# gt_wait_pid PID SECS: wait for our child PID; GT_RC gets its status,
# 124 (and its session killed) when it outlives SECS.
gt_wait_pid() {
	local pid=$1 n=$(($2 * 20))
	while kill -0 "$pid" 2>/dev/null; do
		# a zombie child still answers kill -0; wait reaps it below
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			gt_kill_sessions "$pid"
			GT_RC=124
			return 124
		fi
		sleep 0.05
	done
	{ wait "$pid"; } 2>/dev/null
	GT_RC=$?
	return 0
}

# gt_alive PID: true while PID exists and is neither a zombie nor dead.
gt_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# gt_wait_gone PID SECS: wait until PID is no longer alive (any parent).
gt_wait_gone() {
	local n=$(($2 * 20))
	while gt_alive "$1"; do
		n=$((n - 1))
		[ "$n" -le 0 ] && return 1
		sleep 0.05
	done
	return 0
}

# gt_wait_file FILE REGEX SECS: wait until FILE has a line matching REGEX (ERE).
gt_wait_file() {
	local n=$(($3 * 20))
	until grep -aEq -- "$2" "$1" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -le 0 ] && return 1
		sleep 0.05
	done
}

gt_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${GT_WATCHDOG:-}" ] && kill "$GT_WATCHDOG" 2>/dev/null && wait "$GT_WATCHDOG" 2>/dev/null
	gt_kill_sessions "${GT_SIDS[@]}"
	if [ -n "$GT_T" ] && [ -d "$GT_T" ]; then
		if [ "${GT_KEEP:-0}" = 1 ]; then
			echo "logs kept in $GT_T"
		else
			rm -rf "$GT_T"
		fi
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- setup

# gt_init TESTNAME [TARGET...]: temp dir, cleanup trap, watchdog, targets built.
gt_init() {
	GT_TEST=$1
	shift
	# kept logs go to /tmp: tests/run.sh removes its GOTAP_TMP when it ends
	if [ "${GT_KEEP:-0}" = 1 ]; then
		GT_T=$(mktemp -d "/tmp/$GT_TEST.XXXXXX")
	else
		GT_T=$(mktemp -d "${GOTAP_TMP:-/tmp}/$GT_TEST.XXXXXX")
	fi
	trap gt_cleanup EXIT
	trap 'echo "FAIL: $GT_TEST: interrupted"; exit 130' INT
	trap 'echo "FAIL: $GT_TEST: aborted after ${GT_DEADLINE:-540}s (or SIGTERM)"; exit 143' TERM
	# The watchdog is a plain child (not in a session we kill) that TERMs us.
	( sleep "${GT_DEADLINE:-540}"; kill -TERM $$ 2>/dev/null ) >/dev/null 2>&1 &
	GT_WATCHDOG=$!
	if ! command -v gdb >/dev/null; then
		echo "FAIL: $GT_TEST: gdb is not installed (make deps)"
		exit 1
	fi
	if ! command -v gdbserver >/dev/null; then
		echo "FAIL: $GT_TEST: gdbserver is not installed (make deps)"
		exit 1
	fi
	if ! "$GT_ROOT/tests/targets/build.sh" "$@" >"$GT_T/build.log" 2>&1; then
		gt_fail "$GT_TEST.build-targets" "tests/targets/build.sh failed" "$GT_T/build.log"
		exit 1
	fi
}

# gt_each FUNC [ARGS...]: run FUNC SIDE ARGS... for each side in GT_SIDES.
# A side whose stub is missing is not run (its checks then FAIL with the reason).
gt_each() {
	local s why
	for s in $GT_SIDES; do
		if why=$(gt_side_ok "$s"); then
			"$@" "$s" || true
		else
			echo "$why" >"$GT_T/$s.missing"
		fi
	done
}

# gt_f SIDE TAG EXT: the path of one log of a session (gdb, out, err, rlog, cmd).
gt_f() { echo "$GT_T/$1.$2.$3"; }

# ---------------------------------------------------------------- stub and gdb

# gt_stub_start SIDE TAG STUB-ARGS...: start the side's stub with those arguments
# (write the COMM as :0, the stub then picks a free port and says which).
# Waits for "Listening on port N".  Sets GT_ADDR (127.0.0.1:N), GT_PORT,
# GT_STUB_PID, GT_INF_PID (from "Process P created; pid = N", else "").
# Program output goes to $(gt_f SIDE TAG out), the stub's own messages to .err.
# GT_ENV="NAME=VALUE ..." adds to the stub's (hence the program's) environment.
gt_stub_start() {
	local side=$1 tag=$2 stub
	shift 2
	stub=$(gt_stub_cmd "$side")
	GT_ADDR="" GT_PORT="" GT_INF_PID="" GT_STUB_PID=""
	# shellcheck disable=SC2086 # GT_ENV is a list of NAME=VALUE words
	gt_spawn "$(gt_f "$side" "$tag" out)" "$(gt_f "$side" "$tag" err)" env ${GT_ENV:-} "$stub" "$@"
	GT_STUB_PID=$GT_PID
	local err n=600
	err=$(gt_f "$side" "$tag" err)
	until GT_PORT=$(sed -n 's/^Listening on port \([0-9][0-9]*\).*/\1/p' "$err" 2>/dev/null | head -n 1) && [ -n "$GT_PORT" ]; do
		n=$((n - 1))
		if [ "$n" -le 0 ] || ! kill -0 "$GT_STUB_PID" 2>/dev/null; then
			echo "stub did not print 'Listening on port N': $stub $*" >>"$(gt_f "$side" "$tag" gdb)"
			cat "$err" >>"$(gt_f "$side" "$tag" gdb)" 2>/dev/null
			gt_kill_sessions "$GT_STUB_PID"
			return 1
		fi
		sleep 0.05
	done
	GT_ADDR=127.0.0.1:$GT_PORT
	GT_INF_PID=$(sed -n 's/^Process .* created; pid = \([0-9][0-9]*\).*/\1/p' "$err" | head -n 1)
}

# gt_stub_wait SIDE TAG [SECS]: wait for the stub to exit (killed after SECS,
# default 20); its status goes to $(gt_f SIDE TAG stubrc).
gt_stub_wait() {
	gt_wait_pid "$GT_STUB_PID" "${3:-20}"
	echo "$GT_RC" >"$(gt_f "$1" "$2" stubrc)"
}

# gt_stub_stop: end the current stub (SIGTERM, then SIGKILL of its session).
gt_stub_stop() {
	[ -n "$GT_STUB_PID" ] || return 0
	kill -TERM "$GT_STUB_PID" 2>/dev/null
	gt_wait_pid "$GT_STUB_PID" 5
	gt_kill_sessions "$GT_STUB_PID"
}

# gt_gdb_start SIDE TAG PROG [GDB-ARGS...] <CMDS: start `gdb -batch -nx` in the
# background on PROG with the command list read from stdin (one command a
# line, each passed as -ex; "echo @@name\n" markers label sections).  The raw RSP traffic of the
# session is logged with `set remotelogfile` for gt_packets_check.  Sets
# GT_GDB_PID.  Output (stdout+stderr) goes to $(gt_f SIDE TAG gdb).
gt_gdb_start() {
	local side=$1 tag=$2 prog=$3
	shift 3
	local cmd gdbf
	cmd=$(gt_f "$side" "$tag" cmd)
	gdbf=$(gt_f "$side" "$tag" gdb)
	{
		echo "set remotelogfile $(gt_f "$side" "$tag" rlog)"
		echo "set pagination off"
		echo "set confirm off"
		echo "set width 0"
		echo "set breakpoint pending on"
		echo "set remotetimeout 10"
		cat
	} >"$cmd"
	# One -ex per line: unlike a sourced file, gdb goes on after a command that
	# fails (an error is part of what a scenario checks).  Multi-line commands
	# (while, define) go in a file of their own, run by a "source FILE" line.
	local -a ex=()
	local line
	while IFS= read -r line; do
		[ -n "$line" ] && ex+=(-ex "$line")
	done <"$cmd"
	# stdout and stderr into one file, in order.
	setsid gdb -batch -nx -q -iex "set auto-load python-scripts off" "$@" "${ex[@]}" "$prog" </dev/null >>"$gdbf" 2>&1 &
	GT_GDB_PID=$!
	GT_SIDS+=("$GT_GDB_PID")
}

# gt_gdb_wait SIDE TAG [SECS]: wait for gdb (killed after SECS); status to .gdbrc.
gt_gdb_wait() {
	gt_wait_pid "$GT_GDB_PID" "${3:-$GT_GDB_TIMEOUT}"
	[ "$GT_RC" = 124 ] && echo "gotap-tests: gdb killed after ${3:-$GT_GDB_TIMEOUT}s" >>"$(gt_f "$1" "$2" gdb)"
	echo "$GT_RC" >"$(gt_f "$1" "$2" gdbrc)"
}

# gt_gdb SIDE TAG PROG [GDB-ARGS...] <CMDS: gt_gdb_start then gt_gdb_wait.
gt_gdb() {
	gt_gdb_start "$@"
	gt_gdb_wait "$1" "$2"
}

# ---------------------------------------------------------------- checks

# _gt_sidefail NAME SIDE WHY [EVIDENCE]: a failed check of one side.  With
# GT_REF_SOFT=1 (checks of behaviour the issue asks of gotap-stub beyond what
# gdbserver does, e.g. cleaning up after a client vanishes) a gdbserver failure
# is reported as SKIP: gdbserver is the reference only where it behaves right.
_gt_sidefail() {
	if [ "$2" = ref ] && [ "${GT_REF_SOFT:-0}" = 1 ]; then
		gt_skip "${1}[$(gt_label "$2")]" "gdbserver fails this too (stricter requirement for gotap-stub): $3"
	else
		gt_fail "${1}[$(gt_label "$2")]" "$3" "${4:-}"
	fi
}

# _gt_have NAME TAG SIDE EXT: true when the side's log exists; otherwise fails
# the check (stub missing, session not run).
_gt_have() {
	local name=$1 tag=$2 side=$3 ext=$4
	if [ -f "$GT_T/$side.missing" ]; then
		gt_fail "${name}[$(gt_label "$side")]" "$(cat "$GT_T/$side.missing")"
		return 1
	fi
	if [ ! -f "$(gt_f "$side" "$tag" "$ext")" ]; then
		gt_fail "${name}[$(gt_label "$side")]" "no $ext log: the session did not run (stub did not start?)" "$(gt_f "$side" "$tag" gdb)"
		return 1
	fi
}

# gt_has TAG CHECK REGEX [EXT]: on each side, the session's log (default the gdb
# output) has a line matching REGEX (ERE).  Check name TAG.CHECK[side].
gt_has() {
	local tag=$1 check=$2 re=$3 ext=${4:-gdb} s
	for s in $GT_SIDES; do
		_gt_have "$tag.$check" "$tag" "$s" "$ext" || continue
		if grep -Eq -- "$re" "$(gt_f "$s" "$tag" "$ext")"; then
			gt_pass "${tag}.${check}[$(gt_label "$s")]"
		else
			_gt_sidefail "$tag.$check" "$s" "no line matches /$re/ in $ext" "$(gt_tail "$s" "$tag" "$ext")"
		fi
	done
}

# gt_hasnt TAG CHECK REGEX [EXT]: on each side, no line matches REGEX.
gt_hasnt() {
	local tag=$1 check=$2 re=$3 ext=${4:-gdb} s
	for s in $GT_SIDES; do
		_gt_have "$tag.$check" "$tag" "$s" "$ext" || continue
		if grep -Eq -- "$re" "$(gt_f "$s" "$tag" "$ext")"; then
			grep -E -- "$re" "$(gt_f "$s" "$tag" "$ext")" >"$GT_T/evidence"
			_gt_sidefail "$tag.$check" "$s" "unexpected line /$re/ in $ext" "$GT_T/evidence"
		else
			gt_pass "${tag}.${check}[$(gt_label "$s")]"
		fi
	done
}

# gt_check TAG CHECK FUNC: on each side, FUNC SIDE TAG succeeds; what FUNC prints
# on failure is the evidence (first line: the reason).
gt_check() {
	local tag=$1 check=$2 fn=$3 s
	for s in $GT_SIDES; do
		_gt_have "$tag.$check" "$tag" "$s" "${GT_CHECK_EXT:-gdb}" || continue
		if "$fn" "$s" "$tag" >"$GT_T/evidence" 2>&1; then
			gt_pass "${tag}.${check}[$(gt_label "$s")]"
		else
			_gt_sidefail "$tag.$check" "$s" "$(head -n 1 "$GT_T/evidence")" "$(gt_tail "$s" "$tag" gdb)"
		fi
	done
}

# gt_tail SIDE TAG EXT: a file with the last 16 lines of a log (for evidence).
gt_tail() {
	tail -n 16 "$(gt_f "$1" "$2" "$3")" >"$GT_T/tail" 2>/dev/null
	echo "$GT_T/tail"
}

# gt_same TAG CHECK FILTER [EXT]: the lines FILTER keeps from the ref and sut
# logs (default the gdb output) are equal.  FILTER reads stdin, writes stdout.
gt_same() {
	local tag=$1 check=$2 filter=$3 ext=${4:-gdb}
	case " $GT_SIDES " in *" ref "*) ;; *) return 0 ;; esac
	case " $GT_SIDES " in *" sut "*) ;; *) return 0 ;; esac
	local name="${tag}.${check}[same]"
	if [ -f "$GT_T/sut.missing" ]; then gt_fail "$name" "$(cat "$GT_T/sut.missing")"; return; fi
	local a b
	a=$(gt_f ref "$tag" "$ext")
	b=$(gt_f sut "$tag" "$ext")
	if [ ! -f "$a" ] || [ ! -f "$b" ]; then gt_fail "$name" "a session did not run"; return; fi
	"$filter" <"$a" >"$a.$check.key"
	"$filter" <"$b" >"$b.$check.key"
	if [ ! -s "$a.$check.key" ]; then
		gt_fail "$name" "the filter kept nothing from gdbserver's log (broken scenario)" "$(gt_tail ref "$tag" "$ext")"
	elif diff -u --label gdbserver --label "$(gt_label sut)" "$a.$check.key" "$b.$check.key" >"$GT_T/evidence"; then
		gt_pass "$name"
	else
		gt_fail "$name" "differs from gdbserver (diff -u gdbserver $(gt_label sut))" "$GT_T/evidence"
	fi
}

# gt_file_is TAG CHECK WANT EXT: on each side, the whole file (.ext) equals WANT.
gt_file_is() {
	local tag=$1 check=$2 want=$3 ext=$4 s got
	for s in $GT_SIDES; do
		_gt_have "$tag.$check" "$tag" "$s" "$ext" || continue
		got=$(cat "$(gt_f "$s" "$tag" "$ext")")
		if [ "$got" = "$want" ]; then
			gt_pass "${tag}.${check}[$(gt_label "$s")]"
		else
			_gt_sidefail "$tag.$check" "$s" "$ext is '$got', want '$want'"
		fi
	done
}

# gt_line FILE TEXT: the number of FILE's first line containing TEXT (fixed
# string), so scenarios name source lines without hard-coding numbers.
gt_line() {
	grep -nF -- "$2" "$1" | head -n 1 | cut -d: -f1
}

# ---------------------------------------------------------------- filters
# Filters keep what a user reads and normalize what differs between any two
# runs (pids, thread ids, ports).  Addresses are kept: both stubs run the
# program with ASLR off (gdb's default disable-randomization), so they match.

gt_norm() {
	sed -E -e 's/process [0-9]+/process PID/g' \
		-e 's/LWP [0-9]+/LWP TID/g' \
		-e 's/Thread 0x[0-9a-f]+/Thread TH/g' \
		-e 's/Thread [0-9]+\.[0-9]+/Thread TH/g' \
		-e 's/pid = [0-9]+/pid = PID/g' \
		-e 's/pid=[0-9]+/pid=PID/g' \
		-e 's/port [0-9]+/port PORT/g' \
		-e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
		-e 's/[[:space:]]+$//'
}

# markers, frames (with the pc of outer frames dropped), stops, values.
gt_k_frames() {
	grep -E '^(@@|#[0-9]+ )' | sed -E 's/^(#[0-9]+ +)0x[0-9a-f]+ in /\1/' | gt_norm
}
gt_k_stops() {
	grep -E '^(@@|Breakpoint [0-9]+, |Thread [0-9]+ .* hit |Temporary breakpoint|Program received signal|Program terminated|\[Inferior [0-9]+ \(process [0-9]+\) (exited|detached|killed)|Hardware (read |access \()?watchpoint|Old value|New value|Value = |Run till exit|Value returned|Continuing\.)' |
		sed -E 's/^Thread [0-9]+ "[^"]*" hit /hit /; s/^Thread [0-9]+ hit /hit /' | gt_norm
}
gt_k_values() {
	grep -E '^(@@|\$[0-9]+ = |Cannot access memory|No symbol)' | gt_norm
}
# everything a stop prints: the stop line, the frame line and the source line.
gt_k_user() {
	grep -Ev '^(Reading |warning: File transfers|warning: Can not parse XML|Download failed|Remote debugging using|\[New Thread|\[Switching to|\[Thread .* exited|Ending remote debugging|\[Inferior [0-9]+ \(process [0-9]+\) detached\]|Detaching from|Kill the program|Remote connection closed|Remote communication error|Sending packet|Packet received)' |
		grep -Ev '^$' | gt_norm | sed -E 's/ {2,}/ /g'   # table columns widen with the ids' digits
}

# ---------------------------------------------------------------- packets

# gt_packets_check: for every session run on both sides (same TAG), every
# packet gdb sent to both stubs that gdbserver answered with a real reply must
# not get an error (E..) or empty reply from the stub under test.  Packets are
# matched by their exact text, one check line per test file.  The remote log
# is the raw traffic `set debug remote 1` prints, as gdb's remotelogfile.
gt_packets_check() {
	case " $GT_SIDES " in *" ref "*) ;; *) return 0 ;; esac
	case " $GT_SIDES " in *" sut "*) ;; *) return 0 ;; esac
	local name="$GT_TEST.packets[same]"
	if [ -f "$GT_T/sut.missing" ]; then gt_fail "$name" "$(cat "$GT_T/sut.missing")"; return; fi
	local f tag n=0
	: >"$GT_T/packets.bad"
	for f in "$GT_T"/ref.*.rlog; do
		[ -e "$f" ] || continue
		tag=${f#"$GT_T"/ref.}
		tag=${tag%.rlog}
		[ -f "$(gt_f sut "$tag" rlog)" ] || continue
		n=$((n + 1))
		gt_rlog_pairs <"$f" >"$GT_T/ref.$tag.pairs"
		gt_rlog_pairs <"$(gt_f sut "$tag" rlog)" >"$GT_T/sut.$tag.pairs"
		# the Nth sending of a packet on one side is matched with the Nth on the
		# other (gdb may send one twice: before and after a process exists)
		awk -F'\t' -v tag="$tag" '
			FNR == NR { k = $1 SUBSEP (++nr[$1]); if ($2 == "ok") good[k] = $3; next }
			{ k = $1 SUBSEP (++ns[$1]) }
			($2 == "E" || $2 == "empty") && (k in good) && !(($1) in seen) {
				seen[$1] = 1
				printf "%s: sent %s -> gotap-stub %s, gdbserver %s\n", tag, substr($1, 1, 120), ($3 == "" ? "(empty)" : $3), substr(good[k], 1, 60)
			}' "$GT_T/ref.$tag.pairs" "$GT_T/sut.$tag.pairs" >>"$GT_T/packets.bad"
	done
	if [ "$n" -eq 0 ]; then
		gt_fail "$name" "no session ran on both sides"
	elif [ -s "$GT_T/packets.bad" ]; then
		gt_fail "$name" "$(wc -l <"$GT_T/packets.bad") packet(s) answered by gdbserver got E/empty from the stub" "$GT_T/packets.bad"
	else
		gt_pass "$name"
	fi
}

# gt_rlog_pairs <RLOG: "packet<TAB>class<TAB>reply" for each packet gdb wrote,
# class ok|E|empty|none.  Reads gdb's remotelogfile ("w $pkt#cs" / "r $reply#cs").
gt_rlog_pairs() {
	awk '
	function body(line,   s, e) {
		s = index(line, "$"); if (s == 0) return "\001"
		e = length(line)
		# strip the trailing "#xx" checksum
		if (substr(line, e - 2, 1) == "#") line = substr(line, 1, e - 3)
		return substr(line, s + 1)
	}
	function flush(cls) {
		if (pending != "") printf "%s\t%s\t%s\n", pending, cls, reply
		pending = ""
	}
	/^w / { b = body($0); if (b == "\001") next
		if (pending != "") { reply = ""; flush("none") }
		# process and thread ids differ between runs: mask them so that
		# H, T, vCont, vKill, qAttached ... packets still pair up
		gsub(/p[0-9a-f]+\.[0-9a-f]+/, "pP.T", b)
		gsub(/p[0-9a-f]+\.-1/, "pP.-1", b)
		if (b ~ /^(vKill|vAttach);[0-9a-f]+$/) sub(/;[0-9a-f]+$/, ";PID", b)
		sub(/^qAttached:[0-9a-f]+$/, "qAttached:PID", b)
		pending = b; next }
	/^r / { b = body($0); if (b == "\001" || pending == "") next
		if (substr(b, 1, 1) == "%") next      # async notification
		# an O (console output) packet precedes the real reply
		if (b ~ /^O[0-9a-f]+$/ && b != "OK") next
		reply = b
		if (b == "") cls = "empty"
		else if (b ~ /^E[0-9a-fA-F][0-9a-fA-F]$/ || b ~ /^E\./) cls = "E"
		else cls = "ok"
		flush(cls) }
	END { reply = ""; flush("none") }'
}
