#!/usr/bin/env bash
# fault_sessions: the stub leaves the traced process intact whatever way a
# session ends (issue 7, item 2).  A raw RSP client (python3) drives
# `gotap-stub --multi :0` into one state, then the session is cut:
#
#   states  prenoack  attached/launched, Z0 inserted, still in ack mode
#           stopped   stopped at a software breakpoint (tick)
#           step      stopped at it, a vCont;s sent, cut before its reply
#           running   resumed with a breakpoint inserted (finish, not yet reached)
#           bigwrite  stopped, half of a 64 KiB X packet sent (cut mid-write)
#           watch     stopped at a write watchpoint (Z2 on g_watch)
#   faults  close     the client closes the socket (FIN)
#           reset     the client resets it (SO_LINGER 0: RST)
#           term      the client holds the connection, the stub gets SIGTERM
#
# In every scenario a breakpoint is also left in finish(), which the program
# reaches only at its end, so a breakpoint or watchpoint left behind shows as
# a SIGTRAP death.  Checks after each cut:
#   attached (vAttach to tests/targets/c/fault_prog.c with 4 threads):
#     untraced  every task has TracerPid 0 and none is in tracing stop ('t')
#     text      every executable file mapping read through /proc/PID/mem
#               equals the file's bytes at the same offsets (control, in
#               attach.stopped.term: while the stub still holds its
#               breakpoints the same check sees the int3s)
#     finishes  after SIGUSR1 it prints "done buf=0 usr1=1" and exits 5
#   launched (vRun):
#     reaped    the process is gone, no zombie (close/reset: while the stub
#               still runs, so the stub reaped it itself)
#   both:
#     stub-up / stub-exits   close/reset: the --multi stub is still serving;
#               term: it exits with status 0 within 10 s
#     fds       close/reset: the stub's /proc/PID/fd count after the session
#               (which opened a vFile descriptor, as gdb does) equals the
#               count before it: no leaked descriptor
# (Regression: a thread stopped by the stub's PTRACE_INTERRUPT just after it
# hit the breakpoint, finished its step or fired the watchpoint still had that
# SIGTRAP pending, undequeued; once detached it died of it, exit 133, in about
# half the runs of the attach.{stopped,step,watch,bigwrite}.* scenarios.)
# FAULT_ONLY=PATTERN runs only the scenarios whose MODE.STATE.CUT contains it.
. "$(dirname "$0")/../lib/common.sh"
gt_init fault_sessions fault_prog
STUB=$GOTAP_BIN/gotap-stub
PROG=$GT_TARGETS/fault_prog
command -v python3 >/dev/null || { gt_skip fault_sessions "python3 not installed"; exit 0; }
[ -x "$STUB" ] || { gt_fail fault_sessions "no stub at $STUB"; exit 1; }

# the raw RSP client the python parts import (tests/lib/rsp.py)
cp "$(dirname "$0")/../lib/rsp.py" "$GT_T/rsp.py"

cat >"$GT_T/fault.py" <<'PYEOF'
# fault.py ADDR attach|run PID|- EXE STATE CUT: drive the stub into STATE, then
# cut the connection (close | reset) or hold it (hold: until the stub goes).
# Prints "PID n" and "READY" (at the cut point) on stdout.
import sys, time
from rsp import Rsp, frame, addr_of
addr, mode, pidarg, exe, state, cut = sys.argv[1:7]
r = Rsp(addr)
def expect(rep, want, what):
    if not rep.startswith(want):
        print('UNEXPECTED %s: %r' % (what, rep[:200])); sys.stdout.flush(); sys.exit(2)
r.cmd('qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+')
if state != 'prenoack':
    expect(r.cmd('QStartNoAckMode'), b'OK', 'QStartNoAckMode'); r.noack = True
expect(r.cmd('!'), b'OK', '!')
if mode == 'attach':
    pid = int(pidarg)
    rep = r.cmd('vAttach;%x' % pid)
else:
    rep = r.cmd('vRun;' + exe.encode().hex() + ';' + b'threads'.hex())
expect(rep, b'T', 'attach/run stop')
if mode != 'attach':
    i = rep.find(b'thread:p')
    pid = int(rep[i + 8:].split(b'.')[0], 16)
print('PID %d' % pid); sys.stdout.flush()
# as gdb does for its target: sysroot: a host-I/O descriptor the session must not leak
expect(r.cmd('vFile:setfs:0'), b'F0', 'vFile:setfs')
expect(r.cmd('vFile:open:%s,0,0' % exe.encode().hex()), b'F', 'vFile:open')
tick = addr_of(pid, exe, 'tick'); fin = addr_of(pid, exe, 'finish')
watch = addr_of(pid, exe, 'g_watch'); buf = addr_of(pid, exe, 'g_buf')
expect(r.cmd('Z0,%x,1' % fin), b'OK', 'Z0 finish')
if mode != 'attach':
    # a launched program stops before main: run it into the loop first
    expect(r.cmd('Z0,%x,1' % tick), b'OK', 'Z0 tick')
    r.send('vCont;c'); expect(r.read_packet(), b'T05', 'stop at tick')
    expect(r.cmd('z0,%x,1' % tick), b'OK', 'z0 tick')
def stop_at_tick():
    expect(r.cmd('Z0,%x,1' % tick), b'OK', 'Z0 tick')
    r.send('vCont;c'); rep = r.read_packet()
    expect(rep, b'T05', 'stop at tick')
    if b'swbreak' not in rep: print('UNEXPECTED no swbreak: %r' % rep); sys.exit(2)
    return rep
if state == 'prenoack':
    expect(r.cmd('Z0,%x,1' % tick), b'OK', 'Z0 tick')
elif state == 'stopped':
    stop_at_tick()
elif state == 'step':
    rep = stop_at_tick()
    i = rep.find(b'thread:p')
    tid = rep[i + 8:].split(b';')[0].split(b'.')[1].decode()
    # the step request goes out; the connection is cut before its reply is read
    r.send_raw(frame('vCont;s:p%x.%s' % (pid, tid)))
elif state == 'running':
    r.send('vCont;c'); time.sleep(0.3)
elif state == 'bigwrite':
    stop_at_tick()
    f = frame(b'X%x,10000:' % buf + b'A' * 0x10000)
    r.send_raw(f[:len(f) // 2]); time.sleep(0.2)
elif state == 'watch':
    expect(r.cmd('Z2,%x,4' % watch), b'OK', 'Z2 g_watch')
    r.send('vCont;c'); rep = r.read_packet()
    if b'watch:' not in rep: print('UNEXPECTED no watch stop: %r' % rep); sys.exit(2)
print('READY'); sys.stdout.flush()
if cut == 'hold':
    r.s.settimeout(60)
    try:
        while r.s.recv(65536): pass
    except Exception:
        pass
    print('EOF')
else:
    r.cut(cut)
PYEOF

# fdcount PID: number of open descriptors of PID.
fdcount() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# untraced PID: every task of PID has TracerPid 0 and is not in tracing stop.
untraced() {
	local st
	for st in /proc/"$1"/task/*/status; do
		grep -q '^TracerPid:[[:space:]]*0$' "$st" 2>/dev/null || return 1
		grep -q '^State:[[:space:]]*t' "$st" 2>/dev/null && return 1
	done
	return 0
}
# wait_untraced PID SECS
wait_untraced() {
	local n=$(($2 * 20))
	until untraced "$1"; do
		n=$((n - 1)); [ "$n" -le 0 ] && return 1
		sleep 0.05
	done
}
# wait_absent PID SECS: /proc/PID gone entirely (not even a zombie).
wait_absent() {
	local n=$(($2 * 20))
	while [ -e "/proc/$1" ]; do
		n=$((n - 1)); [ "$n" -le 0 ] && return 1
		sleep 0.05
	done
}
taskstates() { grep -H -E '^(State|TracerPid)' /proc/"$1"/task/*/status 2>/dev/null | sed 's|/proc/||'; }

# scenario MODE STATE CUT
scenario() {
	local mode=$1 state=$2 cut=$3 name="$1.$2.$3" d=$GT_T/$1.$2.$3
	local tpid="" spid port n0 n1 cpid
	mkdir -p "$d"
	local ccut=$cut   # what the client does: for term it holds the connection
	[ "$cut" = term ] && ccut=hold
	if [ "$mode" = attach ]; then
		gt_spawn "$d/prog.out" "$d/prog.err" "$PROG" threads
		tpid=$GT_PID
		gt_wait_file "$d/prog.out" '^fault_prog: waiting' 20 || { gt_fail "$name.setup" "target did not start" "$d/prog.err"; return; }
	fi
	gt_spawn "$d/stub.out" "$d/stub.err" "$STUB" --multi :0
	spid=$GT_PID
	gt_wait_file "$d/stub.err" '^Listening on port' 20 || { gt_fail "$name.setup" "stub did not listen" "$d/stub.err"; return; }
	port=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$d/stub.err" | head -n 1)
	n0=$(fdcount "$spid")
	(cd "$GT_T" && exec python3 fault.py "127.0.0.1:$port" "$mode" "${tpid:--}" "$PROG" "$state" "$ccut") >"$d/client.log" 2>&1 &
	cpid=$!
	if ! gt_wait_file "$d/client.log" '^READY' 30; then
		gt_fail "$name.setup" "client did not reach state $state" "$d/client.log"
		kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
		kill -TERM "$spid" 2>/dev/null; gt_wait_pid "$spid" 10
		[ -n "$tpid" ] && gt_kill_sessions "$tpid"
		return
	fi
	[ "$mode" = run ] && tpid=$(sed -n 's/^PID //p' "$d/client.log")
	if [ "$mode.$state.$cut" = attach.stopped.term ]; then
		# control: while the stub holds its breakpoints the checker must see them
		if (cd "$GT_T" && python3 rsp.py textcheck "$tpid") >"$d/text0" 2>&1; then
			gt_fail "$name.text-check-sees-int3" "the text check found no difference with two breakpoints inserted" "$d/text0"
		else
			gt_pass "$name.text-check-sees-int3"
		fi
	fi
	if [ "$cut" = term ]; then
		kill -TERM "$spid"
		gt_wait_pid "$spid" 10
		if [ "$GT_RC" = 0 ]; then gt_pass "$name.stub-exits"; else gt_fail "$name.stub-exits" "stub status $GT_RC after SIGTERM (want 0)" "$d/stub.err"; fi
		wait "$cpid" 2>/dev/null
	else
		wait "$cpid"
	fi
	if [ "$mode" = attach ]; then
		if wait_untraced "$tpid" 10; then gt_pass "$name.untraced"; else taskstates "$tpid" >"$d/ev"; gt_fail "$name.untraced" "a thread is still traced or in tracing stop" "$d/ev"; fi
		if (cd "$GT_T" && python3 rsp.py textcheck "$tpid") >"$d/text" 2>&1; then gt_pass "$name.text"; else gt_fail "$name.text" "text differs from the executable on disk" "$d/text"; fi
	else
		if wait_absent "$tpid" 10; then gt_pass "$name.reaped"; else
			echo "pid $tpid: $(grep -h State: /proc/"$tpid"/status 2>/dev/null)" >"$d/ev"
			gt_fail "$name.reaped" "launched process still there (zombie or alive)" "$d/ev"
		fi
	fi
	if [ "$cut" != term ]; then
		if gt_alive "$spid"; then
			gt_pass "$name.stub-up"
			# (the stub closes the session's descriptors just after it lets the
			# process go: a leak is permanent, so allow it 2 s to get there)
			for _ in $(seq 40); do n1=$(fdcount "$spid"); [ "$n1" = "$n0" ] && break; sleep 0.05; done
			if [ "$n1" = "$n0" ]; then gt_pass "$name.fds"; else
				ls -l "/proc/$spid/fd" >"$d/ev" 2>&1
				gt_fail "$name.fds" "stub has $n1 descriptors after the session, $n0 before" "$d/ev"
			fi
		else
			gt_fail "$name.stub-up" "the --multi stub died when the client went away" "$d/stub.err"
		fi
		kill -TERM "$spid" 2>/dev/null
		gt_wait_pid "$spid" 10
	fi
	if [ "$mode" = attach ]; then
		kill -USR1 "$tpid" 2>/dev/null
		gt_wait_pid "$tpid" 10
		if [ "$GT_RC" = 5 ] && grep -q '^fault_prog: done buf=0 usr1=1$' "$d/prog.out"; then
			gt_pass "$name.finishes"
		else
			{ echo "exit status $GT_RC (want 5)"; cat "$d/prog.out"; } >"$d/ev"
			gt_fail "$name.finishes" "program did not finish normally" "$d/ev"
		fi
	fi
	grep -q '^UNEXPECTED' "$d/client.log" && gt_fail "$name.client" "$(grep '^UNEXPECTED' "$d/client.log" | head -n 1)"
	gt_kill_sessions "$spid" ${tpid:+"$tpid"}
}

for mode in attach run; do
	for state in prenoack stopped step running bigwrite watch; do
		for cut in close reset term; do
			[[ "$mode.$state.$cut" == *${FAULT_ONLY:-}* ]] || continue
			scenario "$mode" "$state" "$cut"
		done
	done
done
exit 0
