# script_lib.bash — helpers for the script-language integration tests
# (tests/integration/script_*.sh); sourced, not run.
#
# The runner is `gotap --script FILE` / `gotap -e SCRIPT` when gotap has those
# options; until then a stand-in built here from tests/lib/stp_driver.c
# against $GOTAP_BUILD/libana.a (same options, same stp_run()).
# GOTAP_SCRIPT_STUB=gdbserver runs every session through the real gdbserver.
#
# Output: "PASS: name" / "FAIL: name: why" (+ "  | " evidence) / "SKIP: ...".
set -u
SCR_ROOT=${GOTAP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GOTAP_BIN=${GOTAP_BIN:-$SCR_ROOT/bin}
GOTAP_BUILD=${GOTAP_BUILD:-$SCR_ROOT/build}
SCR_TARGETS=$GOTAP_BUILD/targets
SCR_T=$(mktemp -d "${GOTAP_TMP:-/tmp}/script.XXXXXX")
export GOTAP_STUB=$GOTAP_BIN/gotap-stub
[ "${GOTAP_SCRIPT_STUB:-}" = gdbserver ] && export GOTAP_STUB=$(command -v gdbserver)
trap 'rm -rf "$SCR_T"' EXIT

scr_pass() { echo "PASS: $1"; }
scr_fail() {
	echo "FAIL: $1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then head -n 14 "$3" | sed 's/^/  | /'; fi
}
# scr_check NAME WHY EVIDENCE-FILE COMMAND...
scr_check() {
	local name=$1 why=$2 ev=$3; shift 3
	if "$@"; then scr_pass "$name"; else scr_fail "$name" "$why" "$ev"; fi
}

# The runner: sets SCR_RUN (an array).
scr_runner() {
	if [ -x "$GOTAP_BIN/gotap" ] && "$GOTAP_BIN/gotap" --help 2>&1 | grep -q -- '--script'; then
		SCR_RUN=("$GOTAP_BIN/gotap")
		return 0
	fi
	local lib=$GOTAP_BUILD/libana.a proto=$GOTAP_BUILD/libproto.a
	if [ ! -f "$lib" ] || [ ! -f "$proto" ]; then
		echo "SKIP: $(basename "$0" .sh): no gotap --script and no $lib to build a stand-in"
		exit 0
	fi
	local libs
	libs=$(pkg-config --libs libdw jansson 2>/dev/null || echo -ldw -lelf -ljansson)
	# shellcheck disable=SC2086
	if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -I"$SCR_ROOT/protocol" -I"$SCR_ROOT/analyzer" \
		-o "$SCR_T/stp_driver" "$SCR_ROOT/tests/lib/stp_driver.c" "$lib" "$proto" $libs -lpthread \
		>"$SCR_T/cc.log" 2>&1; then
		scr_fail "$(basename "$0" .sh).runner" "cannot build the stand-in driver" "$SCR_T/cc.log"
		exit 1
	fi
	SCR_RUN=("$SCR_T/stp_driver")
}

# scr_build NAME...: Go targets, if stale.
scr_build() {
	GOTAP_BUILD=$GOTAP_BUILD "$SCR_ROOT/tests/targets/build.sh" "$@" >"$SCR_T/build.log" 2>&1 ||
		{ scr_fail build "tests/targets/build.sh $*" "$SCR_T/build.log"; exit 1; }
}

# The stack.go line the seed's scripts probe, for the Go in use: the
# statement `morebuf := thisg.m.morebuf` in runtime.newstack — the last one
# before newstack clears m.morebuf, which the scripts read (the article's
# line 936 of its Go's stack.go played that part).
scr_newstack_line() {
	local goroot src
	goroot=$(go env GOROOT 2>/dev/null)
	src=$goroot/src/runtime/stack.go
	grep -n '^	morebuf := thisg.m.morebuf$' "$src" 2>/dev/null | head -1 | cut -d: -f1
}

# scr_instantiate TEMPLATE OUT PROG LINE: fill @EXAMPLE@/@PROG@ and @LINE@.
scr_instantiate() {
	sed "s|@EXAMPLE@|$3|g; s|@PROG@|$3|g; s|@LINE@|$4|g" "$1" >"$2"
}

# Is every "runtime: newstack: N -> M" line N a power of two >= 2048 and
# M = 2N, each followed by at least one frame in stap's fileline format, the
# last frame of each event runtime.goexit (or the event at program start)?
scr_events_ok() {
	awk '
	function pow2(x) { while (x > 1 && x % 2 == 0) x /= 2; return x == 1 }
	/^runtime: newstack: / {
		if (ev && frames == 0) bad = bad "event without frames; "
		ev++; frames = 0
		n = $3; m = $5
		if (!(n >= 2048 && pow2(n) && m == 2 * n)) bad = bad "sizes " n " -> " m "; "
		next
	}
	/^ 0x[0-9a-f]+ : [^ ]+\+0x[0-9a-f]+\/0x[0-9a-f]+ at [^ ]+:[0-9]+ \[[^]]+\]$/ { if (ev) frames++; next }
	/^ 0x/ { bad = bad "frame format: " $0 "; " }
	END { if (ev == 0) bad = bad "no events"; if (bad != "") { print bad; exit 1 } }' "$1"
}
