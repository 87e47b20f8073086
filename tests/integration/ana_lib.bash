# ana_lib.bash — helpers for gotap's integration tests (tests/integration/ana_*.sh).
# Not a test itself (tests/run.sh runs *.sh only); each ana_*.sh sources it.
#
# Environment:
#   GOTAP_BIN, GOTAP_BUILD  set by tests/run.sh (defaults: bin/, build/)
#   GOTAP_ANA_STUB          gotap-stub (default: gotap starts $GOTAP_BIN/gotap-stub
#                           itself, and gdb's reference count runs through it too)
#                           or gdbserver (gotap --remote to `gdbserver --once :0 PROG`;
#                           the reference count through `gdbserver -`)
#   ANA_KEEP=1              keep the temp dir (its path is printed)
#
# Output: "PASS: name" / "FAIL: name: why" (evidence lines follow with "  | ") /
# "SKIP: name: why", the lines tests/run.sh counts.

set -u
ANA_ROOT=${GOTAP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GOTAP_BIN=${GOTAP_BIN:-$ANA_ROOT/bin}
GOTAP_BUILD=${GOTAP_BUILD:-$ANA_ROOT/build}
ANA_TARGETS=$GOTAP_BUILD/targets
ANA_STUB=${GOTAP_ANA_STUB:-gotap-stub}
ANA_GOTAP=$GOTAP_BIN/gotap
export GOTAP_STUB=$GOTAP_BIN/gotap-stub
ANA_T=$(mktemp -d "${GOTAP_TMP:-/tmp}/ana.XXXXXX")
ANA_PIDS=()

ana_cleanup() {
	local p
	for p in "${ANA_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	if [ "${ANA_KEEP:-0}" = 1 ]; then echo "kept $ANA_T" >&2; else rm -rf "$ANA_T"; fi
}
trap ana_cleanup EXIT

ana_pass() { echo "PASS: $1"; }
ana_skip() { echo "SKIP: $1: $2"; }
# ana_fail NAME WHY [EVIDENCE-FILE]
ana_fail() {
	echo "FAIL: $1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then head -n 12 "$3" | sed 's/^/  | /'; fi
}
# ana_check NAME WHY-IF-FALSE CONDITION-COMMAND... [evidence via ANA_EVIDENCE]
ana_check() {
	local name=$1 why=$2; shift 2
	if "$@"; then ana_pass "$name"; else ana_fail "$name" "$why" "${ANA_EVIDENCE:-}"; fi
}

# ana_need_tools: skip the whole file (exit 0) when the basics are missing.
ana_need_tools() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			ana_skip "$(basename "$0" .sh)" "$t not installed"; exit 0
		fi
	done
	if [ ! -x "$ANA_GOTAP" ] || [ ! -x "$GOTAP_STUB" ]; then
		ana_fail "$(basename "$0" .sh)" "gotap or gotap-stub not built in $GOTAP_BIN"; exit 1
	fi
}

# ana_build NAME...: build Go targets tests/targets/go/NAME.go (if stale).
ana_build() {
	GOTAP_BUILD=$GOTAP_BUILD "$ANA_ROOT/tests/targets/build.sh" "$@" >"$ANA_T/build.log" 2>&1 ||
		{ ana_fail build "tests/targets/build.sh $*" "$ANA_T/build.log"; exit 1; }
}

# ana_gotap OUT ERR [GOTAP-OPTIONS...] -- PROG [ARGS...]
# Run gotap on a fresh PROG through the chosen stub; OUT/ERR get its stdout and
# stderr.  Returns gotap's exit status.
ana_gotap() {
	local out=$1 err=$2; shift 2
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	if [ "$ANA_STUB" = gdbserver ]; then
		local log=$ANA_T/gdbserver.$$.$RANDOM.log port="" i
		: >"$log"
		setsid gdbserver --once :0 "$@" >"$log" 2>&1 &
		local gpid=$!
		ANA_PIDS+=("$gpid")
		for i in $(seq 1 100); do
			port=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$log")
			[ -n "$port" ] && break
			sleep 0.05
		done
		[ -n "$port" ] || { cat "$log" >"$err"; return 99; }
		timeout -k 5 120 "$ANA_GOTAP" "${opts[@]}" --remote "127.0.0.1:$port" --binary "$1" >"$out" 2>"$err"
		local rc=$?
		wait "$gpid" 2>/dev/null
		cat "$log" >>"$err"
		return $rc
	fi
	timeout -k 5 120 "$ANA_GOTAP" "${opts[@]}" -- "$@" >"$out" 2>"$err"
}

# ana_gdb_growths PROG OUT: the reference count.  gdb, through the same kind
# of stub, stops at runtime.copystack's entry (gp in RAX, newsize in RBX under
# Go's register ABI) and prints "GROW old new" for each call that grows the
# goroutine (newsize > g.stack.hi - g.stack.lo; g.stack {lo, hi} is the first
# field of runtime.g), then "GDB-GROWTHS n".  A call seen twice in a row with
# the same gp, stack and size is one call reported again after a signal
# handler (a stub passing SIGURG during a step) and is counted once; a g
# reused by the next goroutine has a new goid.
ana_gdb_growths() {
	local prog=$1 out=$2 remote
	if [ "$ANA_STUB" = gdbserver ]; then remote="| gdbserver - $prog"
	else remote="| $GOTAP_STUB - $prog"; fi
	cat >"$ANA_T/count.gdb" <<'GDB'
set language c
set pagination off
set confirm off
set $n = 0
set $lgp = 0
set $llo = 0
set $lns = 0
set $lid = 0
set $lsp = 0
break *'runtime.copystack'
commands 1
silent
if ($rbx > *(unsigned long*)($rax+8) - *(unsigned long*)$rax) && !($rax == $lgp && *(unsigned long*)$rax == $llo && $rbx == $lns && (('runtime.g' *)$rax)->goid == $lid && $rsp == $lsp)
printf "GROW %lu %lu\n", *(unsigned long*)($rax+8) - *(unsigned long*)$rax, $rbx
set $n = $n + 1
end
set $lgp = $rax
set $llo = *(unsigned long*)$rax
set $lns = $rbx
set $lid = (('runtime.g' *)$rax)->goid
set $lsp = $rsp
continue
end
continue
printf "GDB-GROWTHS %d\n", $n
GDB
	timeout -k 5 300 gdb -batch -nx -ex "target remote $remote" -x "$ANA_T/count.gdb" "$prog" >"$out" 2>&1
}

# Helpers on gotap's text output.
ana_events() { grep -c '^runtime: newstack: ' "$1"; }
