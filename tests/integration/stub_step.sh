#!/usr/bin/env bash
# stub_step: single-stepping through the stub (vCont;s / s and the breakpoints gdb
# plants for next/finish), run against gdbserver and gotap-stub alike:
#   c_step   break compute, stepi (pc moves, same instruction), next x2 (source
#            lines in order), finish (returns to main with "Value returned ... 21"),
#            then the program exits 7
#   go_step  break main.say (GOMAXPROCS=1), next x2, stepi x3 (into time.Sleep),
#            bt: time.Sleep <- main.say <- main.main
#   go_finish  break main.checkpoint (goroutines.go), finish: back in main.main
. "$(dirname "$0")/../lib/common.sh"
gt_init stub_step example goroutines gtcprog

CSRC=$GT_ROOT/tests/targets/c/gtcprog.c
L_ADD=$(gt_line "$CSRC" 'int y = gtshared_add(x, 2);')
L_MUL=$(gt_line "$CSRC" 'y = y * 3;')
L_RET=$(gt_line "$CSRC" 'return y;')

c_step() {
	gt_stub_start "$1" c_step --once :0 "$GT_CPROG" || return
	gt_gdb "$1" c_step "$GT_CPROG" <<EOF
target remote $GT_ADDR
break compute
continue
echo @@pc0\n
print \$pc
stepi
echo @@stepi\n
print \$pc
x/i \$pc
echo @@next1\n
next
echo @@next2\n
next
echo @@finish\n
finish
echo @@after-finish\n
print r
next
print r
delete
continue
EOF
	gt_stub_wait "$1" c_step
}
gt_each c_step
gt_has c_step stop "^Breakpoint 1, compute \(x=5\) at .*gtcprog\.c:$L_ADD$"
chk_stepi() {
	local f a b
	f=$(gt_f "$1" "$2" gdb)
	a=$(sed -n '/^@@pc0/,/^@@stepi/p' "$f" | sed -n 's/^\$[0-9]* = .*0x\([0-9a-f]*\) <compute+\([0-9]*\)>.*/\2/p')
	b=$(sed -n '/^@@stepi/,/^@@next1/p' "$f" | sed -n 's/^\$[0-9]* = .*0x\([0-9a-f]*\) <compute+\([0-9]*\)>.*/\2/p' | head -n 1)
	[ -n "$a" ] && [ -n "$b" ] || { echo "no <compute+N> pc printed before/after stepi"; return 1; }
	[ "$b" -gt "$a" ] || { echo "stepi did not advance the pc: compute+$a -> compute+$b"; return 1; }
}
gt_check c_step stepi-advances chk_stepi
gt_has c_step next1 "^$L_MUL"$'\t'
gt_has c_step next2 "^$L_RET"$'\t'
gt_has c_step finish-value '^Value returned is \$[0-9]+ = 21$'
gt_has c_step finish-frame '^0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has c_step exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_same c_step stops gt_k_stops
gt_same c_step values gt_k_values
gt_same c_step user-view gt_k_user

GSRC=$GT_ROOT/tests/targets/go/example.go
# (no `finish` out of time.Sleep here: the main goroutine may wake up on another
# OS thread, and gdb's finish breakpoint belongs to the thread it started on)
go_step() {
	GT_ENV=GOMAXPROCS=1 gt_stub_start "$1" go_step --once :0 "$GT_EXAMPLE" || return
	gt_gdb "$1" go_step "$GT_EXAMPLE" <<EOF
target remote $GT_ADDR
break main.say
continue
delete
echo @@next\n
next
next
echo @@stepi\n
stepi
stepi
stepi
info registers rip
echo @@bt\n
bt
kill
EOF
	gt_stub_wait "$1" go_step
}
gt_each go_step
gt_has go_step next-loop "^$(gt_line "$GSRC" 'for i := 0; i < 5; i++')"$'\t'
gt_has go_step next-sleep "^$(gt_line "$GSRC" 'time.Sleep')"$'\t'
# the third stepi enters time.Sleep (the CALL is the second instruction of line 11)
gt_has go_step stepi-call '^time\.Sleep \(ns=1000000\) at .*/runtime/time\.go:[0-9]+$'
gt_has go_step stepi-rip '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <time\.Sleep\+[0-9]+>$'
gt_has go_step bt-say "^#1 +0x[0-9a-f]+ in main\.say \(s=.*\) at .*example\.go:$(gt_line "$GSRC" 'time.Sleep')$"
gt_has go_step bt-main "^#2 +0x[0-9a-f]+ in main\.main \(\) at .*example\.go:$(gt_line "$GSRC" 'say("hello")')$"
gt_same go_step stops gt_k_stops
gt_same go_step user-view gt_k_user

# finish in Go: main.checkpoint (goroutines.go) returns without blocking
go_finish() {
	gt_stub_start "$1" go_finish --once :0 "$GT_GOROUTINES" || return
	gt_gdb "$1" go_finish "$GT_GOROUTINES" <<EOF
target remote $GT_ADDR
break main.checkpoint
continue
delete
echo @@finish\n
finish
echo @@bt\n
bt 1
continue
EOF
	gt_stub_wait "$1" go_finish
}
gt_each go_finish
GRSRC=$GT_ROOT/tests/targets/go/goroutines.go
gt_has go_finish returned "^(0x[0-9a-f]+ in )?main\.main \(\) at .*goroutines\.go:$(gt_line "$GRSRC" 'checkpoint(nWorkers)')$"
gt_has go_finish exit '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
gt_same go_finish stops gt_k_stops
gt_same go_finish frames gt_k_frames

gt_packets_check
