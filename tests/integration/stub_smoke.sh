#!/usr/bin/env bash
# stub_smoke.sh — quick checks of gotap-stub's own surface (CLI, transports,
# packet table, lifecycle), with real gdb over loopback.  The gdb scenarios
# compared against gdbserver live in the other stub_*.sh files; this one
# sources nothing and builds its own tiny C program.
#
# Output: PASS:/FAIL:/SKIP: lines (tests/run.sh counts them).
set -u
STUB=${GOTAP_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/bin}/gotap-stub
T=$(mktemp -d /tmp/stub_smoke.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

pass() { echo "PASS: smoke.$1"; }
fail() { echo "FAIL: smoke.$1: $2"; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/  | /' "$3" | tail -15; }
check() { # name file regex: PASS if a line of file matches
	if grep -Eq -- "$3" "$2"; then pass "$1"; else fail "$1" "no line matches /$3/" "$2"; fi
}

if [ ! -x "$STUB" ]; then echo "FAIL: smoke.binary: $STUB not built"; exit 1; fi
command -v gdb >/dev/null || { echo "SKIP: smoke: gdb not installed"; exit 0; }

cat >"$T/prog.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int g_value = 41;
int work(int x) { g_value += x; return g_value; }
int main(int argc, char **argv)
{
	if (argc > 1) sleep(2);     /* "slow": time to attach / disconnect */
	printf("prog: %d\n", work(1));
	return 3;
}
EOF
cc -g -O0 -o "$T/prog" "$T/prog.c" || { echo "FAIL: smoke.build: cc failed"; exit 1; }

# start_stub NAME ARGS... : runs the stub, waits for "Listening on port N", sets PORT and SPID
start_stub() {
	local name=$1; shift
	"$STUB" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	SPID=$!
	pids+=("$SPID")
	PORT=
	for _ in $(seq 100); do
		PORT=$(sed -n 's/^Listening on port \([0-9]*\)$/\1/p' "$T/$name.err" | head -1)
		[ -n "$PORT" ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
# wait_gone PID SECONDS : true if the process is gone in time
wait_gone() {
	for _ in $(seq $(($2 * 20))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
	return 1
}
run_gdb() { # name, gdb -ex args...
	local name=$1; shift
	timeout 30 gdb -batch -nx -q -iex 'set auto-load python-scripts off' "$@" "$T/prog" \
		</dev/null >"$T/$name.gdb" 2>&1
}

# --- CLI -------------------------------------------------------------------
"$STUB" --version >"$T/v.out" 2>&1 && check version "$T/v.out" '^gotap-stub [0-9]'
"$STUB" --help >"$T/h.out" 2>&1 && check help-lifecycle "$T/h.out" 'removes every breakpoint'
if "$STUB" >"$T/noargs.out" 2>&1; then fail usage-exit "no arguments exited 0"; else pass usage-exit; fi

# --- TCP: loopback only, port 0, messages, packets --------------------------
if start_stub tcp --once :0 "$T/prog"; then
	pass listening-port
	check created "$T/tcp.err" "^Process $T/prog created; pid = [0-9]+$"
	if command -v ss >/dev/null; then
		ss -ltnH "sport = :$PORT" | awk '{print $4}' >"$T/ss.out"
		if grep -q '^127\.0\.0\.1:' "$T/ss.out" && ! grep -vq '^127\.0\.0\.1:' "$T/ss.out"; then
			pass loopback-only
		else
			fail loopback-only ":PORT must bind 127.0.0.1 only" "$T/ss.out"
		fi
	fi
	# Busy port: gdbserver's message and a non-zero exit.
	if "$STUB" ":$PORT" "$T/prog" >"$T/busy.out" 2>&1; then
		fail busy-port "exit status 0" "$T/busy.out"
	else
		check busy-port "$T/busy.out" "^Can't bind address: Address already in use\.$"
	fi
	run_gdb tcp -ex "target remote :$PORT" \
		-ex 'maint packet qNoSuchPacket' -ex 'maint packet mzz' -ex 'maint packet m0,8' \
		-ex 'maint packet Z0,zz' -ex 'maint packet vCont?' -ex 'maint packet qC' \
		-ex 'maint packet qXfer:features:read:target.xml:0,10' -ex 'maint packet p999' \
		-ex 'maint packet vKill;1' -ex 'maint packet qAttached' \
		-ex 'break work' -ex c -ex bt -ex 'p g_value' -ex 'info registers rip' -ex 'kill'
	check unknown-empty "$T/tcp.gdb" '^received: ""$'
	[ "$(grep -c '^received: "E[0-9a-f][0-9a-f]"$' "$T/tcp.gdb")" -ge 5 ] \
		&& pass error-replies || fail error-replies "want >= 5 E replies (mzz m0,8 Z0,zz p999 vKill;1)" "$T/tcp.gdb"
	check vcont-query "$T/tcp.gdb" '^received: "vCont;c;C;s;S;t"$'
	check qc "$T/tcp.gdb" '^received: "QCp[0-9a-f]+\.[0-9a-f]+"$'
	check target-xml "$T/tcp.gdb" '^received: "m<\?xml'
	check qattached "$T/tcp.gdb" '^received: "0"$'
	check break-hit "$T/tcp.gdb" '^Breakpoint 1, work \(x=1\) at .*prog\.c:4'
	check bt-main "$T/tcp.gdb" '^#1 +0x[0-9a-f]+ in main \('
	check print-global "$T/tcp.gdb" '^\$1 = 41$'
	check rip "$T/tcp.gdb" '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <work\+[0-9]+>$'
	if wait_gone "$SPID" 10; then pass once-exits; else fail once-exits "stub still running after kill"; fi
else
	fail listening-port "no 'Listening on port N'" "$T/tcp.err"
fi

# --- without vCont: gdb falls back to c/s ---------------------------------
if start_stub novcont --once --disable-packet=vCont :0 "$T/prog"; then
	run_gdb novcont -ex "target remote :$PORT" -ex 'break work' -ex c -ex next -ex 'p g_value' -ex c
	check novcont-break "$T/novcont.gdb" '^Breakpoint 1, work'
	check novcont-next "$T/novcont.gdb" '^\$1 = 42$'
	check novcont-exit "$T/novcont.gdb" 'exited with code 03'
	wait_gone "$SPID" 10 || fail novcont-stub-exit "stub still running"
fi

# --- disconnect without detach/kill: launched program is killed ---------------
if start_stub disc :0 "$T/prog" slow; then
	ppid=$(sed -n 's/^Process .* created; pid = \([0-9]*\)$/\1/p' "$T/disc.err")
	# gdb dies (SIGKILL from its own shell): no D, no k, just a closed socket
	( timeout 20 gdb -batch -nx -q -ex "target remote :$PORT" -ex 'break work' "$T/prog" \
		-ex 'shell kill -9 $PPID' </dev/null >"$T/disc.gdb" 2>&1; true ) 2>/dev/null
	if wait_gone "$SPID" 10; then pass disconnect-stub-exits; else fail disconnect-stub-exits "stub still running" "$T/disc.err"; fi
	if [ -n "$ppid" ] && ! kill -0 "$ppid" 2>/dev/null; then pass disconnect-kills-launched
	else fail disconnect-kills-launched "pid $ppid still exists" "$T/disc.err"; fi
fi

# --- SIGTERM with an attached process: it runs on and finishes normally -------
"$T/prog" slow >"$T/att.prog" 2>&1 &
apid=$!
pids+=("$apid")
if start_stub att --attach :0 "$apid"; then
	# gdb -batch detaches from an attached program when it exits
	run_gdb att -ex "target remote :$PORT" -ex 'break work'
fi
wait "$apid" 2>/dev/null
rc=$?
if [ "$rc" -eq 3 ] && grep -q '^prog: 42$' "$T/att.prog"; then pass attach-batch-detach-runs-on
else fail attach-batch-detach-runs-on "rc=$rc" "$T/att.prog"; fi

"$T/prog" slow >"$T/term.prog" 2>&1 &
apid=$!
pids+=("$apid")
if start_stub term --attach :0 "$apid"; then
	timeout 20 gdb -batch -nx -q -ex "target remote :$PORT" -ex 'break work' -ex 'shell sleep 0.3' \
		-ex "shell kill -TERM $SPID" -ex 'shell sleep 0.5' "$T/prog" </dev/null >"$T/term.gdb" 2>&1
	wait_gone "$SPID" 10 && pass sigterm-stub-exits || fail sigterm-stub-exits "stub still running" "$T/term.err"
	check sigterm-detaches "$T/term.err" "^Detaching from process $apid$"
fi
wait "$apid" 2>/dev/null
rc=$?
if [ "$rc" -eq 3 ] && grep -q '^prog: 42$' "$T/term.prog"; then pass sigterm-attached-runs-on
else fail sigterm-attached-runs-on "rc=$rc (breakpoint left behind?)" "$T/term.prog"; fi

# --- unix socket: mode 0600, removed at exit -----------------------------------
"$STUB" --once "unix:$T/sock" "$T/prog" >"$T/ux.out" 2>"$T/ux.err" &
SPID=$!
pids+=("$SPID")
for _ in $(seq 100); do [ -S "$T/sock" ] && break; sleep 0.05; done
if [ -S "$T/sock" ]; then
	[ "$(stat -c %a "$T/sock")" = 600 ] && pass unix-mode-0600 || fail unix-mode-0600 "mode $(stat -c %a "$T/sock")"
	run_gdb ux -ex "target remote $T/sock" -ex 'break work' -ex c -ex 'p g_value' -ex kill
	check unix-session "$T/ux.gdb" '^\$1 = 41$'
	wait_gone "$SPID" 10
	[ -e "$T/sock" ] && fail unix-removed "socket file left behind" || pass unix-removed
else
	fail unix-socket "no socket created" "$T/ux.err"
fi

# --- stdio: the program's output must not corrupt the protocol ----------------
run_gdb stdio -ex "target remote | $STUB - $T/prog" -ex 'break work' -ex c -ex bt -ex c
check stdio-break "$T/stdio.gdb" '^Breakpoint 1, work'
check stdio-exit "$T/stdio.gdb" 'exited with code 03'

# --- exec: gdb follows the new image (exec-events) ------------------------------
cat >"$T/execer.c" <<'EOF2'
#include <stdio.h>
#include <unistd.h>
int stage(int n) { return n * 2; }
int main(int argc, char **argv)
{
	printf("execer: stage %d\n", stage(argc));
	fflush(stdout);
	if (argc == 1) execl(argv[0], argv[0], "again", (char *)NULL);
	return 0;
}
EOF2
if cc -g -O0 -o "$T/execer" "$T/execer.c" && start_stub exec --once :0 "$T/execer"; then
	timeout 30 gdb -batch -nx -q -ex "target remote :$PORT" -ex 'break stage' -ex c -ex c -ex c \
		"$T/execer" </dev/null >"$T/exec.gdb" 2>&1
	check exec-event "$T/exec.gdb" 'is executing new program: .*/execer$'
	check exec-break-new-image "$T/exec.gdb" '^Breakpoint 1, stage \(n=2\)'
	check exec-exit "$T/exec.gdb" 'exited normally'
fi

# --- extended-remote: run twice -------------------------------------------------
if start_stub multi --multi :0; then
	run_gdb multi -ex "target extended-remote :$PORT" -ex "set remote exec-file $T/prog" \
		-ex run -ex run -ex 'monitor exit'
	[ "$(grep -c 'exited with code 03' "$T/multi.gdb")" -eq 2 ] && pass multi-run-twice \
		|| fail multi-run-twice "want two exits with code 03" "$T/multi.gdb"
	wait_gone "$SPID" 10 && pass monitor-exit || fail monitor-exit "stub still running after monitor exit"
fi
exit 0
