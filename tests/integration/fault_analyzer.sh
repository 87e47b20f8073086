#!/usr/bin/env bash
# fault_analyzer: the analyzer (gotap) is killed with SIGKILL, or its stub gets
# SIGTERM, while it analyzes a Go program (tests/targets/go/fault_gowait.go,
# whose runtime.newstack breakpoint is hit every few milliseconds).  issue 7,
# item 2.  Scenarios:
#   pid.early     gotap --pid: SIGKILL as soon as the stub has attached
#                 (session set-up: qSupported / no-ack / breakpoint insertion)
#   pid.hot       gotap --pid: SIGKILL after the first growth events are out
#                 (breakpoint inserted, hit by running threads)
#   pid.stubterm  gotap --pid: its gotap-stub gets SIGTERM after the first events
#   run.early / run.hot   gotap -- PROG: SIGKILL, as above
# Checks: the stub gotap started exits (within 10 s); an attached program has
# no traced thread left (TracerPid 0, no 't' state), its text (every
# executable file mapping, read through /proc/PID/mem) equals the file on
# disk, and after SIGUSR1 it prints "fault_gowait: done" and exits 3; a
# launched program is gone and reaped (no zombie).
. "$(dirname "$0")/../lib/common.sh"
gt_init fault_analyzer fault_gowait
GOTAP=$GOTAP_BIN/gotap
PROG=$GT_TARGETS/fault_gowait
command -v python3 >/dev/null || { gt_skip fault_analyzer "python3 not installed"; exit 0; }
[ -x "$GOTAP" ] || { gt_skip fault_analyzer "no gotap at $GOTAP"; exit 0; }
export GOTAP_STUB=$GOTAP_BIN/gotap-stub

cat >"$GT_T/textcheck.py" <<'PYEOF'
# textcheck.py PID: every executable file-backed mapping of PID, read through
# /proc/PID/mem, equals the file's bytes at the same offsets.
import os, sys
pid = int(sys.argv[1]); bad = []
mem = open('/proc/%d/mem' % pid, 'rb', buffering=0)
for line in open('/proc/%d/maps' % pid):
    f = line.split()
    if len(f) < 6 or 'x' not in f[1] or not f[5].startswith('/') or not os.path.isfile(f[5]):
        continue
    lo, hi = (int(x, 16) for x in f[0].split('-'))
    with open(f[5], 'rb') as fb:
        fb.seek(int(f[2], 16)); want = fb.read(hi - lo)
    mem.seek(lo); got = mem.read(len(want))
    if got != want:
        i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), len(got))
        bad.append('%s: differs at 0x%x' % (f[5], lo + i))
print('\n'.join(bad) if bad else 'intact')
sys.exit(1 if bad else 0)
PYEOF

untraced() {
	local st
	for st in /proc/"$1"/task/*/status; do
		grep -q '^TracerPid:[[:space:]]*0$' "$st" 2>/dev/null || return 1
		grep -q '^State:[[:space:]]*t' "$st" 2>/dev/null && return 1
	done
	return 0
}
traced() { grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$1/status" 2>/dev/null; }
wait_cond() {   # SECS CMD...
	local n=$(($1 * 20)); shift
	until "$@"; do n=$((n - 1)); [ "$n" -le 0 ] && return 1; sleep 0.05; done
}
absent() { [ ! -e "/proc/$1" ]; }
child_of() { ps -o pid= --ppid "$1" 2>/dev/null | head -n 1 | tr -d ' '; }

# scenario MODE WHEN FAULT
scenario() {
	local mode=$1 when=$2 fault=$3 name=$1.$2 d=$GT_T/$1.$2 tpid="" gpid spid
	[ "$fault" = stubterm ] && name=$1.stubterm
	d=$GT_T/$name
	mkdir -p "$d"
	if [ "$mode" = pid ]; then
		gt_spawn "$d/prog.out" "$d/prog.err" "$PROG"
		tpid=$GT_PID
		gt_wait_file "$d/prog.out" '^fault_gowait: waiting' 20 || { gt_fail "$name.setup" "target did not start" "$d/prog.err"; return; }
		gt_spawn "$d/gotap.out" "$d/gotap.err" "$GOTAP" --pid "$tpid"
	else
		gt_spawn "$d/gotap.out" "$d/gotap.err" "$GOTAP" -- "$PROG"
	fi
	gpid=$GT_PID
	wait_cond 20 eval '[ -n "$(child_of '"$gpid"')" ]' || { gt_fail "$name.setup" "gotap started no stub" "$d/gotap.err"; return; }
	spid=$(child_of "$gpid")
	if [ "$mode" = run ]; then
		wait_cond 20 eval '[ -n "$(child_of '"$spid"')" ]' || { gt_fail "$name.setup" "the stub started no program" "$d/gotap.err"; return; }
		tpid=$(child_of "$spid")
	fi
	if [ "$when" = early ]; then
		wait_cond 20 traced "$tpid" || { gt_fail "$name.setup" "target never traced" "$d/gotap.err"; return; }
	else
		gt_wait_file "$d/gotap.out" '^runtime: newstack' 30 || { gt_fail "$name.setup" "no growth event reported" "$d/gotap.err"; return; }
	fi
	if [ "$fault" = kill9 ]; then kill -9 "$gpid"; else kill -TERM "$spid"; fi
	if wait_cond 10 absent "$spid"; then gt_pass "$name.stub-exits"; else
		gt_fail "$name.stub-exits" "gotap-stub $spid still there 10 s after the fault: $(grep State: /proc/"$spid"/status 2>/dev/null)"
	fi
	if [ "$mode" = pid ]; then
		if wait_cond 10 untraced "$tpid"; then gt_pass "$name.untraced"; else
			grep -H -E '^(State|TracerPid)' /proc/"$tpid"/task/*/status >"$d/ev" 2>&1
			gt_fail "$name.untraced" "a thread is still traced or in tracing stop" "$d/ev"
		fi
		if python3 "$GT_T/textcheck.py" "$tpid" >"$d/text" 2>&1; then gt_pass "$name.text"; else gt_fail "$name.text" "text differs from the executable" "$d/text"; fi
		kill -USR1 "$tpid"
		gt_wait_pid "$tpid" 10
		if [ "$GT_RC" = 3 ] && grep -q '^fault_gowait: done$' "$d/prog.out"; then gt_pass "$name.finishes"; else
			{ echo "exit status $GT_RC (want 3)"; cat "$d/prog.out" "$d/prog.err"; } >"$d/ev"
			gt_fail "$name.finishes" "program did not finish normally" "$d/ev"
		fi
	else
		if wait_cond 10 absent "$tpid"; then gt_pass "$name.reaped"; else
			gt_fail "$name.reaped" "launched program $tpid still there: $(grep State: /proc/"$tpid"/status 2>/dev/null)"
		fi
	fi
	gt_wait_pid "$gpid" 10
	gt_kill_sessions "$gpid" ${tpid:+"$tpid"}
}

# (bash's "Killed" job notices go to a log, not into the test output)
scenario pid early kill9 2>>"$GT_T/shell.err"
scenario pid hot kill9 2>>"$GT_T/shell.err"
scenario pid hot stubterm 2>>"$GT_T/shell.err"
scenario run early kill9 2>>"$GT_T/shell.err"
scenario run hot kill9 2>>"$GT_T/shell.err"
exit 0
