# remote_lib.bash — helpers for the "container" tests (tests/integration/remote_*.sh):
# real Linux namespaces made by the test itself.  Not a test (tests/run.sh runs *.sh only).
#
#   network:  `ip netns` namespace gtr<PID> joined to the root namespace by a veth pair;
#             10.200.N.1/30 on the host side, 10.200.N.2/30 in the namespace
#             (N from our pid; the range exists only on these two interfaces).
#             No traffic goes anywhere else.
#   container: `unshare --mount --pid --fork --kill-child --mount-proc` (inside the netns
#             when asked), with a private tmpfs the test fills: files put there exist only
#             in that mount namespace.
# Everything is removed on exit (trap): processes we started (by pid), the netns, the veth.
#
# Environment: GOTAP_BIN, GOTAP_BUILD (set by tests/run.sh), RM_KEEP=1 keeps the temp dir.
# Output: "PASS: name" / "FAIL: name: why" (+ "  | " evidence) / "SKIP: name: why".

set -u
RM_ROOT=${GOTAP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GOTAP_BIN=${GOTAP_BIN:-$RM_ROOT/bin}
GOTAP_BUILD=${GOTAP_BUILD:-$RM_ROOT/build}
RM_TARGETS=$GOTAP_BUILD/targets
RM_GOTAP=$GOTAP_BIN/gotap
RM_STUB=$GOTAP_BIN/gotap-stub
export GOTAP_STUB=$RM_STUB
RM_NAME=$(basename "$0" .sh)
RM_T=$(mktemp -d "${GOTAP_TMP:-/tmp}/$RM_NAME.XXXXXX")
chmod 755 "$RM_T"
RM_NS=gtr$$
RM_VH=gtrh$$
RM_VC=gtrc$$
RM_NET=10.200.$(($$ % 250 + 1))
RM_HOST_IP=$RM_NET.1
RM_CTR_IP=$RM_NET.2
RM_PIDS=()
RM_NET_MADE=0
# A fresh cache for every run: the first gotap must fetch.
export XDG_CACHE_HOME=$RM_T/cache

rm_cleanup() {
	local p
	for p in "${RM_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${RM_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ "$RM_NET_MADE" = 1 ]; then
		ip netns del "$RM_NS" 2>/dev/null
		ip link del "$RM_VH" 2>/dev/null
	fi
	if [ "${RM_KEEP:-0}" = 1 ]; then echo "kept $RM_T" >&2; else rm -rf "$RM_T"; fi
}
trap rm_cleanup EXIT
trap 'exit 130' INT TERM

rm_pass() { echo "PASS: $RM_NAME.$1"; }
rm_skip() { echo "SKIP: $RM_NAME.$1: $2"; }
# rm_fail NAME WHY [EVIDENCE-FILE]
rm_fail() {
	echo "FAIL: $RM_NAME.$1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then head -n 15 "$3" | sed 's/^/  | /'; fi
}
# rm_check NAME WHY EVIDENCE-FILE CONDITION-COMMAND...
rm_check() {
	local name=$1 why=$2 ev=$3; shift 3
	if "$@"; then rm_pass "$name"; else rm_fail "$name" "$why" "$ev"; fi
}

# rm_need [net]: skip the whole file (exit 0) where namespaces cannot be made.
rm_need() {
	local t
	for t in unshare gdb go; do
		command -v "$t" >/dev/null 2>&1 || { rm_skip all "$t not installed"; exit 0; }
	done
	if [ ! -x "$RM_GOTAP" ] || [ ! -x "$RM_STUB" ]; then
		rm_fail all "gotap or gotap-stub not built in $GOTAP_BIN"; exit 1
	fi
	if ! unshare --mount --pid --fork --kill-child --mount-proc true 2>"$RM_T/unshare.err"; then
		rm_skip all "cannot make PID+mount namespaces here (unshare: $(head -1 "$RM_T/unshare.err")); needs root or CAP_SYS_ADMIN"
		exit 0
	fi
	if [ "${1:-}" = net ]; then
		command -v ip >/dev/null 2>&1 || { rm_skip all "ip (iproute2) not installed"; exit 0; }
		if ! ip netns add "$RM_NS" 2>"$RM_T/netns.err"; then
			rm_skip all "cannot make a network namespace here (ip netns add: $(head -1 "$RM_T/netns.err"))"
			exit 0
		fi
		RM_NET_MADE=1
		if ! { ip link add "$RM_VH" type veth peer name "$RM_VC" &&
		       ip link set "$RM_VC" netns "$RM_NS" &&
		       ip addr add "$RM_HOST_IP/30" dev "$RM_VH" &&
		       ip link set "$RM_VH" up &&
		       ip -n "$RM_NS" addr add "$RM_CTR_IP/30" dev "$RM_VC" &&
		       ip -n "$RM_NS" link set "$RM_VC" up &&
		       ip -n "$RM_NS" link set lo up; } 2>"$RM_T/veth.err"; then
			rm_skip all "cannot make a veth pair into the namespace ($(head -1 "$RM_T/veth.err"))"
			exit 0
		fi
	fi
}

# rm_build NAME...: build Go targets tests/targets/go/NAME.go (if stale).
rm_build() {
	GOTAP_BUILD=$GOTAP_BUILD "$RM_ROOT/tests/targets/build.sh" "$@" >"$RM_T/build.log" 2>&1 ||
		{ rm_fail build "tests/targets/build.sh $*" "$RM_T/build.log"; exit 1; }
}

# rm_container LOG [net] SCRIPT: run bash SCRIPT as PID 1's child in new PID and
# mount namespaces (inside the network namespace with "net"), in the
# background; stdout+stderr to LOG.  Sets RM_CPID (the unshare process).
rm_container() {
	local log=$1; shift
	local pre=()
	if [ "$1" = net ]; then pre=(ip netns exec "$RM_NS"); shift; fi
	"${pre[@]}" unshare --mount --pid --fork --kill-child --mount-proc --propagation private \
		bash -c "$1" >"$log" 2>&1 &
	RM_CPID=$!
	RM_PIDS+=("$RM_CPID")
}

# rm_wait_for FILE REGEX [TENTHS]: wait (bounded, default 20 s) until FILE has a line matching REGEX.
rm_wait_for() {
	local f=$1 re=$2 n=${3:-200} i
	for ((i = 0; i < n; i++)); do
		grep -Eq "$re" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# rm_host_pid COMM: host pid of the (single) process whose comm is COMM and
# whose mount namespace is not ours.
rm_host_pid() {
	local p
	for p in $(pgrep -x "$1"); do
		[ "$(readlink "/proc/$p/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && { echo "$p"; return 0; }
	done
	return 1
}

# rm_ns_pid HOSTPID: the pid that process has in its own (innermost) PID namespace.
rm_ns_pid() { awk '/^NSpid:/ { print $NF }' "/proc/$1/status"; }

# Report text without the module column: "... at file:line [module]" -> "... at file:line".
rm_strip_module() { sed 's/ \[[^]]*\]$//' "$1"; }
# The distinct modules named in a report.
rm_modules() { grep -o ' \[[^]]*\]$' "$1" | sort -u | tr -d '[]' | sed 's/^ //'; }

# rm_gdb_bt OUT REMOTE [FILE]: gdb (no local file unless FILE) to REMOTE, break at
# main.recurse, print `bt 4`, `info inferiors`, the thread list, then kill
# (RM_GDB_END=detach: detach instead).
rm_gdb_bt() {
	local out=$1 remote=$2 file=${3:-}
	local args=(-nx -batch -ex 'set confirm off' -ex 'set pagination off' -ex "target remote $remote"
		-ex 'break main.recurse' -ex continue -ex 'bt 4' -ex 'info inferiors' -ex 'info threads'
		-ex "${RM_GDB_END:-kill}")
	if [ -n "$file" ]; then args+=("$file"); fi
	(cd "$RM_T" && timeout -k 5 120 gdb "${args[@]}") >"$out" 2>&1
}
# Backtrace lines of a gdb transcript.
rm_bt() { grep '^#[0-9]' "$1"; }
