#!/usr/bin/env bash
# stub_signals: signals through the stub (stop replies with the signal, C/S/vCont
# with a signal, QPassSignals, the ^C interrupt byte), against gdbserver and
# gotap-stub alike, on tests/targets/c/gtcprog.c:
#   c_signal     raise(SIGUSR1): gdb stops with it, `continue` delivers it, the
#                handler runs ("after raise usr1=1"), exit code 7
#   c_pass       `handle SIGUSR1 nostop noprint pass`: no stop, still delivered
#   c_suppress   stop on SIGUSR1, `signal 0`: the program never gets it (usr1=0)
#   c_interrupt  the program spins; SIGINT to gdb (as ^C at gdb's terminal) makes
#                gdb send the interrupt; stop with SIGINT in main, `set var g_stop=1`,
#                continue: normal end
#   c_int_sleep  the same while the program sleeps in usleep(3) (a blocking syscall)
#   go_interrupt spinner.go: 3 goroutines spin at GOMAXPROCS=4 (the runtime preempts
#                them with SIGURG, which passes without a stop); ^C stops them, they
#                show in main.spin, `set var main.stop = 1`, continue: normal end
. "$(dirname "$0")/../lib/common.sh"
gt_init stub_signals gtcprog spinner
GT_SPINNER=$GT_TARGETS/spinner

c_signal() {
	gt_stub_start "$1" c_signal --once :0 "$GT_CPROG" signal || return
	gt_gdb "$1" c_signal "$GT_CPROG" <<EOF
target remote $GT_ADDR
continue
echo @@stopped\n
print g_usr1
bt
continue
EOF
	gt_stub_wait "$1" c_signal
}
gt_each c_signal
gt_has c_signal stop '^Program received signal SIGUSR1, User defined signal 1\.$'
gt_has c_signal not-yet '^\$1 = 0$'
gt_has c_signal bt-main '^#[0-9]+ +0x[0-9a-f]+ in main \(argc=2, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has c_signal delivered '^gtcprog: after raise usr1=1$' out
gt_has c_signal exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_same c_signal stops gt_k_stops
gt_same c_signal program-output cat out

c_pass() {
	gt_stub_start "$1" c_pass --once :0 "$GT_CPROG" signal || return
	gt_gdb "$1" c_pass "$GT_CPROG" <<EOF
target remote $GT_ADDR
handle SIGUSR1 nostop noprint pass
continue
EOF
	gt_stub_wait "$1" c_pass
}
gt_each c_pass
gt_hasnt c_pass no-stop 'Program received signal SIGUSR1'
gt_has c_pass delivered '^gtcprog: after raise usr1=1$' out
gt_has c_pass exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_same c_pass program-output cat out

c_suppress() {
	gt_stub_start "$1" c_suppress --once :0 "$GT_CPROG" signal || return
	gt_gdb "$1" c_suppress "$GT_CPROG" <<EOF
target remote $GT_ADDR
continue
signal 0
EOF
	gt_stub_wait "$1" c_suppress
}
gt_each c_suppress
gt_has c_suppress stop '^Program received signal SIGUSR1, User defined signal 1\.$'
gt_has c_suppress not-delivered '^gtcprog: after raise usr1=0$' out
gt_has c_suppress exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_same c_suppress program-output cat out

# interrupt MODE READY-REGEX SIDE TAG: gdb continues; once the program says it
# is running (so gdb is waiting in `continue`), gdb gets SIGINT.
interrupt() {
	local mode=$1 ready=$2 side=$3 tag=$4
	gt_stub_start "$side" "$tag" --once :0 "$GT_CPROG" "$mode" || return
	gt_gdb_start "$side" "$tag" "$GT_CPROG" <<EOF
target remote $GT_ADDR
continue
echo @@interrupted\n
bt
print g_stop
set var g_stop = 1
continue
EOF
	if gt_wait_file "$(gt_f "$side" "$tag" out)" "$ready" 60; then
		sleep 0.2
		kill -INT "$GT_GDB_PID" 2>/dev/null
	else
		echo "gotap-tests: the program never printed /$ready/" >>"$(gt_f "$side" "$tag" gdb)"
	fi
	gt_gdb_wait "$side" "$tag"
	gt_stub_wait "$side" "$tag"
}
c_interrupt() { interrupt spin '^gtcprog: spinning$' "$1" c_interrupt; }
gt_each c_interrupt
gt_has c_interrupt stop '^Program received signal SIGINT, Interrupt\.$'
gt_has c_interrupt in-main '^(#0 +)?(0x[0-9a-f]+ in )?main \(argc=2, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has c_interrupt value '^\$1 = 0$'
gt_has c_interrupt exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_has c_interrupt output '^gtcprog: done counter=7 watched=23 usr1=0$' out
gt_same c_interrupt stops gt_k_stops

c_int_sleep() { interrupt wait '^gtcprog: waiting pid=' "$1" c_int_sleep; }
gt_each c_int_sleep
gt_has c_int_sleep stop '^Program received signal SIGINT, Interrupt\.$'
gt_has c_int_sleep bt-main '^#[0-9]+ +0x[0-9a-f]+ in main \(argc=2, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has c_int_sleep exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_has c_int_sleep output '^gtcprog: done counter=7 watched=23 usr1=0$' out
gt_same c_int_sleep stops gt_k_stops

# ---- a busy Go program: ^C stops every thread, SIGURG (preemption) passes
go_interrupt() {
	local side=$1 tag=go_interrupt
	GT_ENV=GOMAXPROCS=4 gt_stub_start "$side" "$tag" --once :0 "$GT_SPINNER" || return
	gt_gdb_start "$side" "$tag" "$GT_SPINNER" <<EOF
target remote $GT_ADDR
continue
echo @@interrupted\n
info threads
print main.stop
set var main.stop = 1
continue
EOF
	if gt_wait_file "$(gt_f "$side" "$tag" out)" '^spinner: spinning$' 60; then
		sleep 0.5
		kill -INT "$GT_GDB_PID" 2>/dev/null
	else
		echo "gotap-tests: the program never printed 'spinner: spinning'" >>"$(gt_f "$side" "$tag" gdb)"
	fi
	gt_gdb_wait "$side" "$tag"
	gt_stub_wait "$side" "$tag"
}
gt_each go_interrupt
gt_has go_interrupt stop '^(Thread [0-9]+ "spinner" received|Program received) signal SIGINT, Interrupt\.$'
gt_hasnt go_interrupt no-sigurg-stop 'received signal SIGURG'
chk_spinners() {
	local n
	n=$(sed -n '/^@@interrupted/,/^\$1/p' "$(gt_f "$1" "$2" gdb)" | grep -Ec '"spinner" +(0x[0-9a-f]+ in )?main\.spin \(')
	[ "$n" -ge 1 ] || { echo "no thread shown in main.spin after the interrupt"; return 1; }
}
gt_check go_interrupt threads-in-spin chk_spinners
gt_has go_interrupt value '^\$1 = 0$'
gt_has go_interrupt exit '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
gt_has go_interrupt output '^spinner: done workers=3$' out
gt_same go_interrupt program-output cat out

gt_packets_check
