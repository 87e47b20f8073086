#!/usr/bin/env bash
# stub_break: breakpoints through the stub, each scenario run against gdbserver and
# gotap-stub with the same gdb commands:
#   go_func     break main.say, continue, bt (main.say <- main.main, then the
#               "world" goroutine: main.main.func1 <- runtime.goexit), hit count,
#               run to the end: normal exit and main's 5 "hello" lines
#   go_fileline break example.go:LINE, continue twice, print the loop variable
#   c_shlib     pending break in a shared library (gtshared_add), break gtcprog.c:LINE,
#               bt through the library, print a local, `info sharedlibrary`, exit code
. "$(dirname "$0")/../lib/common.sh"
gt_init stub_break example gtcprog

# GOMAXPROCS=1: main runs say("hello") before the "world" goroutine gets a P,
# so the first hit of main.say is always from main.main.
go_func() {
	GT_ENV=GOMAXPROCS=1 gt_stub_start "$1" go_func --once :0 "$GT_EXAMPLE" || return
	gt_gdb "$1" go_func "$GT_EXAMPLE" <<EOF
target remote $GT_ADDR
break main.say
continue
echo @@bt1\n
bt
continue
echo @@bt2\n
bt
echo @@info-break\n
info breakpoints
delete
continue
EOF
	gt_stub_wait "$1" go_func
}
gt_each go_func
gt_has go_func stop '^(Thread [0-9]+ "example" hit )?Breakpoint 1, main\.say \(s=.*\) at .*/example\.go:9$'
chk_bt1() {
	sed -n '/^@@bt1/,/^@@bt2/p' "$(gt_f "$1" "$2" gdb)" >"$GT_T/bt1"
	grep -Eq '^#0 +main\.say \(s=.*\) at .*example\.go:9$' "$GT_T/bt1" || { echo "bt #0 is not main.say at example.go:9"; return 1; }
	grep -Eq '^#1 +0x[0-9a-f]+ in main\.main \(\) at .*example\.go:18$' "$GT_T/bt1" || { echo "bt #1 is not main.main at example.go:18"; return 1; }
}
gt_check go_func bt-say-main chk_bt1
gt_has go_func bt-goroutine '^#1 +0x[0-9a-f]+ in main\.main\.func1 \(\) at .*example\.go:17$'
gt_has go_func bt-goexit '^#2 +0x[0-9a-f]+ in runtime\.goexit \(\)'
gt_has go_func hit-count 'breakpoint already hit 2 times'
gt_has go_func exit '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
chk_go_output() {
	# main returns after its 5 "hello"; the "world" goroutine may not finish.
	local f h w
	f=$(gt_f "$1" "$2" out)
	h=$(grep -cx hello "$f")
	w=$(grep -cx world "$f")
	[ "$h" = 5 ] && [ "$w" -ge 1 ] || { echo "program printed $h hello, $w world (want 5 and >= 1)"; return 1; }
}
gt_check go_func output chk_go_output
gt_same go_func frames gt_k_frames
gt_same go_func stops gt_k_stops
hellos() { grep -x hello; }
gt_same go_func program-output hellos out

# ---- break at file:line in Go
L=$(gt_line "$GT_ROOT/tests/targets/go/example.go" 'time.Sleep')
go_fileline() {
	GT_ENV=GOMAXPROCS=1 gt_stub_start "$1" go_fileline --once :0 "$GT_EXAMPLE" || return
	gt_gdb "$1" go_fileline "$GT_EXAMPLE" <<EOF
target remote $GT_ADDR
break example.go:$L
continue
echo @@i1\n
print i
bt 1
continue
echo @@i2\n
print i
print s
bt 2
kill
EOF
	gt_stub_wait "$1" go_fileline
}
gt_each go_fileline
gt_has go_fileline set "^Breakpoint 1 at 0x[0-9a-f]+: file .*example\.go, line $L\.$"
gt_has go_fileline stop "Breakpoint 1, main\.say \(s=.*\) at .*example\.go:$L$"
gt_has go_fileline print-i '^\$1 = 0$'
gt_has go_fileline print-s '^\$3 = (0x[0-9a-f]+ )?"world"$'
gt_has go_fileline killed '^\[Inferior 1 \(process [0-9]+\) killed\]$'
gt_same go_fileline stops gt_k_stops
gt_same go_fileline values gt_k_values
gt_same go_fileline frames gt_k_frames

# ---- C program: breakpoint in a shared library (pending until loaded), file:line
CL=$(gt_line "$GT_ROOT/tests/targets/c/gtcprog.c" 'y = y * 3;')
c_shlib() {
	gt_stub_start "$1" c_shlib --once :0 "$GT_CPROG" || return
	gt_gdb "$1" c_shlib "$GT_CPROG" <<EOF
target remote $GT_ADDR
break gtshared_add
break gtcprog.c:$CL
continue
echo @@lib\n
bt
print a
print b
echo @@sharedlibrary\n
info sharedlibrary
continue
echo @@line\n
print y
print gtshared_calls
bt
continue
EOF
	gt_stub_wait "$1" c_shlib
}
gt_each c_shlib
gt_has c_shlib lib-stop '^Breakpoint 1, gtshared_add \(a=5, b=2\) at .*libgtshared\.c:[0-9]+$'
gt_has c_shlib lib-bt '^#1 +0x[0-9a-f]+ in compute \(x=5\) at .*gtcprog\.c:[0-9]+$'
gt_has c_shlib lib-bt-main '^#2 +0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has c_shlib line-stop "^Breakpoint 2, compute \(x=5\) at .*gtcprog\.c:$CL$"
gt_has c_shlib print-local '^\$3 = 7$'
gt_has c_shlib print-lib-global '^\$4 = 1$'
gt_has c_shlib sharedlibrary '^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes +(target:)?.*/libgtshared\.so$'
gt_has c_shlib sharedlibrary-libc '^0x[0-9a-f]+ +0x[0-9a-f]+ +Yes( \(\*\))? +(target:)?.*/libc\.so\.6$'
gt_has c_shlib exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_has c_shlib program-output '^gtcprog: done counter=7 watched=23 usr1=0$' out
gt_same c_shlib frames gt_k_frames
gt_same c_shlib stops gt_k_stops
gt_same c_shlib values gt_k_values
solibs() { sed -n '/^@@sharedlibrary/,/^@@line/p' | grep -E '^0x' | sed -E 's/ +\(\*\)//; s/^0x[0-9a-f]+ +0x[0-9a-f]+ +//'; }
gt_same c_shlib sharedlibrary solibs
gt_same c_shlib program-output cat out

gt_packets_check
