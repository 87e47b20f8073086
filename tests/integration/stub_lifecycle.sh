#!/usr/bin/env bash
# stub_lifecycle: how sessions start and end, against gdbserver and gotap-stub alike
# (tests/targets/c/gtcprog.c; "waiter" = `gtcprog wait` started by this test):
#   detach        launched; break bump, detach: the program finishes on its own with
#                 its normal last line (the breakpoint was removed); the stub exits
#   kill          launched; `kill`: the process is gone, the stub exits
#   attach        `--attach PID` to a waiter: bt, print, set var g_stop=1, detach:
#                 it finishes with exit code 7
#   multi         `--multi`: extended-remote `run` twice (exit code 7 each time), then
#                 `attach` a waiter, detach, `monitor exit`
#   stdio         `target remote | STUB - PROG`: break, bt, run to the end; nothing left
#   unix          `unix:PATH` (gotap-stub only, gdbserver has no such transport)
#   messages      the stub's stderr lines IDE launchers wait for; port in use
# and what happens when the client goes away (issue 2, section 4: the stub removes
# every breakpoint, then detaches an attached process or kills a launched one).
# gdbserver 13 leaves breakpoints in or keeps waiting in some of these, so there
# a gdbserver failure is a SKIP, not a FAIL (GT_REF_SOFT=1):
#   disc_stopped   gdb (breakpoints always inserted) killed -9 while the waiter is stopped
#   disc_running   gdb killed -9 while the waiter runs with a breakpoint inserted
#   disc_launched  gdb killed -9 while a launched program runs: it is killed
#   term_attached  the stub gets SIGTERM while an attached waiter runs
#   term_launched  the stub gets SIGTERM while a launched program runs
. "$(dirname "$0")/../lib/common.sh"
gt_init stub_lifecycle gtcprog

DONE7='^gtcprog: done counter=7 watched=23 usr1=0$'
L_AFTER=$(gt_line "$GT_ROOT/tests/targets/c/gtcprog.c" '/* after-wait')

# start_waiter SIDE TAG: run `gtcprog wait` (our child, ASLR off like a program
# gdb starts, so both sides see the same addresses); W_PID its pid.
start_waiter() {
	gt_spawn "$(gt_f "$1" "$2" wout)" "$(gt_f "$1" "$2" werr)" setarch -R "$GT_CPROG" wait
	W_PID=$GT_PID
	gt_wait_file "$(gt_f "$1" "$2" wout)" '^gtcprog: waiting pid=' 30
}
# finish_waiter SIDE TAG [SIG]: SIGUSR1 ends its wait loop (when nothing traces it
# any more); its exit status goes to .wrc (124: still there after 10 s).
finish_waiter() {
	[ -n "${3:-}" ] && kill "-$3" "$W_PID" 2>/dev/null
	gt_wait_pid "$W_PID" 10
	echo "$GT_RC" >"$(gt_f "$1" "$2" wrc)"
}
# resumed SIDE TAG: wait until gdb has sent a resume packet.
resumed() {
	gt_wait_file "$(gt_f "$1" "$2" rlog)" '^w \$(vCont;c|c)' 60
	sleep 0.2
}
# stub_gone SIDE TAG: the stub's exit status to .stubrc (124 if still up after 10 s).
stub_gone() { gt_stub_wait "$1" "$2" 10; }
chk_stub_exited() {
	local rc
	rc=$(cat "$(gt_f "$1" "$2" stubrc)" 2>/dev/null)
	[ -n "$rc" ] && [ "$rc" != 124 ] || { echo "the stub did not exit (status ${rc:-none})"; return 1; }
}
chk_inferior_gone() {
	local pid
	pid=$(sed -n 's/^Process .* created; pid = \([0-9]*\).*/\1/p' "$(gt_f "$1" "$2" err)" | head -n 1)
	[ -n "$pid" ] || { echo "the stub did not print 'Process ... created; pid = N'"; return 1; }
	gt_wait_gone "$pid" 10 || { echo "launched process $pid still alive: $(grep State: /proc/"$pid"/status 2>/dev/null)"; return 1; }
}

# ---- detach from a launched program
t_detach() {
	gt_stub_start "$1" detach --once :0 "$GT_CPROG" || return
	gt_gdb "$1" detach "$GT_CPROG" <<EOF
target remote $GT_ADDR
break bump
continue
bt 2
detach
EOF
	stub_gone "$1" detach
	gt_wait_file "$(gt_f "$1" detach out)" "$DONE7" 15
}
gt_each t_detach
gt_has detach stopped '^Breakpoint 1, bump \(by=21\) at .*gtcprog\.c:[0-9]+$'
gt_has detach detached '^\[Inferior 1 \(process [0-9]+\) detached\]$'
gt_has detach program-finishes "$DONE7" out
gt_check detach stub-exits chk_stub_exited
gt_check detach process-ends chk_inferior_gone
gt_same detach program-output cat out

# ---- kill a launched program
t_kill() {
	gt_stub_start "$1" kill --once :0 "$GT_CPROG" || return
	gt_gdb "$1" kill "$GT_CPROG" <<EOF
target remote $GT_ADDR
break compute
continue
kill
EOF
	stub_gone "$1" kill
}
gt_each t_kill
gt_has kill killed '^\[Inferior 1 \(process [0-9]+\) killed\]$'
gt_hasnt kill no-output '^gtcprog: done' out
gt_check kill stub-exits chk_stub_exited
gt_check kill process-gone chk_inferior_gone

# ---- --attach PID
t_attach() {
	start_waiter "$1" attach || return
	gt_stub_start "$1" attach --once --attach :0 "$W_PID" || return
	gt_gdb "$1" attach "$GT_CPROG" <<EOF
target remote $GT_ADDR
echo @@bt\n
bt
print g_counter
print g_stop
set var g_stop = 1
detach
EOF
	stub_gone "$1" attach
	finish_waiter "$1" attach
}
gt_each t_attach
gt_has attach bt-main '^#[0-9]+ +0x[0-9a-f]+ in main \(argc=2, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has attach print '^\$1 = 7$'
gt_has attach detached '^\[Inferior 1 \(process [0-9]+\) detached\]$'
gt_has attach program-finishes "$DONE7" wout
gt_file_is attach exit-code 7 wrc
gt_check attach stub-exits chk_stub_exited
gt_has attach message-attached '^Attached; pid = [0-9]+$' err
gt_same attach frames gt_k_frames

# ---- --multi: extended-remote run twice, then attach
t_multi() {
	start_waiter "$1" multi || return
	gt_stub_start "$1" multi --multi :0 || return
	gt_gdb "$1" multi "$GT_CPROG" <<EOF
target extended-remote $GT_ADDR
set remote exec-file $GT_CPROG
echo @@run1\n
run
echo @@run2\n
run
echo @@attach\n
attach $W_PID
bt
print g_counter
set var g_stop = 1
detach
echo @@exit\n
monitor exit
EOF
	stub_gone "$1" multi
	finish_waiter "$1" multi
}
gt_each t_multi
chk_two_runs() {
	local n
	n=$(grep -Ec '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$' "$(gt_f "$1" "$2" gdb)")
	[ "$n" = 2 ] || { echo "$n runs exited with code 07 (want 2)"; return 1; }
	n=$(grep -Ec "$DONE7" "$(gt_f "$1" "$2" out)")
	[ "$n" = 2 ] || { echo "the program printed its last line $n times (want 2)"; return 1; }
}
gt_check multi run-twice chk_two_runs
gt_has multi attach-bt '^#[0-9]+ +0x[0-9a-f]+ in main \(argc=2, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has multi attach-print '^\$1 = 7$'
gt_has multi attach-detached '^\[Inferior 1 \(process [0-9]+\) detached\]$'
gt_has multi attached-finishes "$DONE7" wout
gt_file_is multi attached-exit-code 7 wrc
gt_check multi monitor-exit chk_stub_exited
gt_same multi stops gt_k_stops
gt_same multi frames gt_k_frames

# ---- stdio transport
t_stdio() {
	# the shell gdb runs the command with sets $_ to the stub's path, which the
	# program inherits: make it the same on both sides (the stack layout follows)
	local stub
	stub=$(gt_stub_cmd "$1")
	: >"$(gt_f "$1" stdio err)"
	gt_gdb "$1" stdio "$GT_CPROG" <<EOF
target remote | exec env _=stub $stub - $GT_CPROG
break compute
continue
bt
continue
EOF
	# gdb has ended: the stub (in gdb's session) and the program must be gone too.
	sleep 0.5
	# shellcheck disable=SC2034 # read by gt_session_pids
	GT_WANT_SIDS=("$GT_GDB_PID")
	gt_session_pids | while read -r p; do
		echo "left behind: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done >"$(gt_f "$1" stdio left)"
}
gt_each t_stdio
gt_has stdio stop '^Breakpoint 1, compute \(x=5\) at .*gtcprog\.c:[0-9]+$'
gt_has stdio bt '^#1 +0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has stdio exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
# gdbserver sends the program's stdout to its stderr on stdio: it shows in gdb's output
gt_has stdio program-output "$DONE7"
gt_file_is stdio nothing-left "" left
gt_same stdio stops gt_k_stops
gt_same stdio frames gt_k_frames

# ---- unix socket transport (gotap-stub only)
if [[ " $GT_SIDES " == *" sut "* ]]; then
	if [ "${STUB_UNDER_TEST:-}" = gdbserver ]; then
		gt_skip "unix.session[$(gt_label sut)]" "gdbserver has no unix: transport"
	elif why=$(gt_side_ok sut); then
		sock=$GT_T/stub.sock
		gt_spawn "$(gt_f sut unix out)" "$(gt_f sut unix err)" "$(gt_stub_cmd sut)" --once "unix:$sock" "$GT_CPROG"
		GT_STUB_PID=$GT_PID
		if gt_wait_file "$(gt_f sut unix err)" '^Listening on' 5 || [ -S "$sock" ]; then
			mode=$(stat -c %a "$sock" 2>/dev/null)
			if [ "$mode" = 600 ]; then gt_pass "unix.mode-0600[$(gt_label sut)]"; else gt_fail "unix.mode-0600[$(gt_label sut)]" "socket mode is '${mode:-no socket}'"; fi
			gt_gdb sut unix "$GT_CPROG" <<EOF
target remote $sock
break compute
continue
bt
continue
EOF
			gt_stub_wait sut unix 20
			if grep -Eq '^Breakpoint 1, compute \(x=5\)' "$(gt_f sut unix gdb)" && grep -Eq 'exited with code 07' "$(gt_f sut unix gdb)"; then
				gt_pass "unix.session[$(gt_label sut)]"
			else
				gt_fail "unix.session[$(gt_label sut)]" "no breakpoint stop / exit code 7 over unix:$sock" "$(gt_tail sut unix gdb)"
			fi
		else
			gt_fail "unix.listen[$(gt_label sut)]" "no 'Listening on' line and no socket at $sock" "$(gt_f sut unix err)"
			gt_kill_sessions "$GT_STUB_PID"
		fi
	else
		gt_fail "unix.session[$(gt_label sut)]" "$why"
	fi
	[[ " $GT_SIDES " == *" ref "* ]] && gt_skip "unix.session[gdbserver]" "gdbserver has no unix: transport"
fi

# ---- messages on stderr; port already in use
gt_has detach msg-created '^Process .*/gtcprog created; pid = [0-9]+$' err
gt_has detach msg-listening '^Listening on port [0-9]+$' err
gt_has detach msg-remote '^Remote debugging from host 127\.0\.0\.1, port [0-9]+$' err
t_busy() {
	start_waiter "$1" busy || return
	gt_stub_start "$1" busy0 --once --attach :0 "$W_PID" || return
	local first=$GT_STUB_PID port=$GT_PORT
	gt_spawn "$(gt_f "$1" busy out)" "$(gt_f "$1" busy err)" "$(gt_stub_cmd "$1")" --once ":$port" "$GT_CPROG"
	GT_STUB_PID=$GT_PID
	stub_gone "$1" busy
	echo ok >"$(gt_f "$1" busy gdb)"
	GT_STUB_PID=$first
	gt_stub_stop
	gt_kill_sessions "$W_PID"
}
gt_each t_busy
gt_has busy msg-in-use "^Can't bind address: Address already in use\.$" err
chk_busy_rc() {
	local rc
	rc=$(cat "$(gt_f "$1" "$2" stubrc)")
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || { echo "second stub on a busy port: exit status $rc (want non-zero, promptly)"; return 1; }
}
gt_check busy exits-nonzero chk_busy_rc
chk_busy_left() {
	local pid
	pid=$(sed -n 's/^Process .* created; pid = \([0-9]*\).*/\1/p' "$(gt_f "$1" "$2" err)" | head -n 1)
	[ -z "$pid" ] && return 0
	gt_wait_gone "$pid" 10 || { echo "the process it created ($pid) is still alive"; return 1; }
}
gt_check busy no-process-left chk_busy_left

# ---- the client goes away; the stub gets SIGTERM (issue 2, section 4)
# shellcheck disable=SC2034 # read by the check helpers in common.sh
GT_REF_SOFT=1

t_disc_stopped() {
	start_waiter "$1" disc_stopped || return
	gt_stub_start "$1" disc_stopped --once --attach :0 "$W_PID" || return
	gt_gdb_start "$1" disc_stopped "$GT_CPROG" <<EOF
set breakpoint always-inserted on
target remote $GT_ADDR
break bump
echo @@inserted\n
shell sleep 120
EOF
	gt_wait_file "$(gt_f "$1" disc_stopped gdb)" '^@@inserted' 60
	kill -9 "$GT_GDB_PID"
	gt_gdb_wait "$1" disc_stopped
	stub_gone "$1" disc_stopped
	finish_waiter "$1" disc_stopped USR1
}
t_disc_running() {
	start_waiter "$1" disc_running || return
	gt_stub_start "$1" disc_running --once --attach :0 "$W_PID" || return
	gt_gdb_start "$1" disc_running "$GT_CPROG" <<EOF
target remote $GT_ADDR
break bump
continue
EOF
	resumed "$1" disc_running
	kill -9 "$GT_GDB_PID"
	gt_gdb_wait "$1" disc_running
	stub_gone "$1" disc_running
	finish_waiter "$1" disc_running USR1
}
t_term_attached() {
	start_waiter "$1" term_attached || return
	gt_stub_start "$1" term_attached --once --attach :0 "$W_PID" || return
	gt_gdb_start "$1" term_attached "$GT_CPROG" <<EOF
target remote $GT_ADDR
break bump
continue
EOF
	resumed "$1" term_attached
	kill -TERM "$GT_STUB_PID"
	stub_gone "$1" term_attached
	gt_gdb_wait "$1" term_attached 30
	finish_waiter "$1" term_attached USR1
}
for t in disc_stopped disc_running term_attached; do
	gt_each "t_$t"
	gt_check "$t" stub-exits chk_stub_exited
	gt_has "$t" runs-on-unharmed '^gtcprog: done counter=7 watched=23 usr1=1$' wout
	gt_file_is "$t" exit-code 7 wrc
done

t_disc_launched() {
	gt_stub_start "$1" disc_launched --once :0 "$GT_CPROG" wait || return
	gt_gdb_start "$1" disc_launched "$GT_CPROG" <<EOF
target remote $GT_ADDR
break gtcprog.c:$L_AFTER
continue
EOF
	gt_wait_file "$(gt_f "$1" disc_launched out)" '^gtcprog: waiting' 60
	resumed "$1" disc_launched
	kill -9 "$GT_GDB_PID"
	gt_gdb_wait "$1" disc_launched
	stub_gone "$1" disc_launched
}
t_term_launched() {
	gt_stub_start "$1" term_launched --once :0 "$GT_CPROG" wait || return
	gt_gdb_start "$1" term_launched "$GT_CPROG" <<EOF
target remote $GT_ADDR
break gtcprog.c:$L_AFTER
continue
EOF
	gt_wait_file "$(gt_f "$1" term_launched out)" '^gtcprog: waiting' 60
	resumed "$1" term_launched
	kill -TERM "$GT_STUB_PID"
	stub_gone "$1" term_launched
	gt_gdb_wait "$1" term_launched 30
}
for t in disc_launched term_launched; do
	gt_each "t_$t"
	gt_check "$t" stub-exits chk_stub_exited
	gt_check "$t" process-killed chk_inferior_gone
done
# shellcheck disable=SC2034
GT_REF_SOFT=0

gt_packets_check
