#!/usr/bin/env bash
# stub_memory: registers, memory and data through the stub (g/p/G/P, m/M/X, Z2/Z3),
# run against gdbserver and gotap-stub with the same gdb commands:
#   go_regs    at main.say: `info registers rip fs_base`, `x/8xg $sp`, the
#              return address at $sp (the breakpoint is before the frame is made), the full register list (names as gdb's
#              amd64-linux description, fs_base/gs_base/orig_rax included)
#   c_data     print a global and a library global, `set var` (seen in the program's
#              output and exit code: 42), `set {int}`, memory that cannot be read,
#              a 64 KiB read (dump) equal on both sides, ASLR off as gdb asks
#   c_watch    `watch g_watched`: old/new values 0->21->22, stop in bump()
#   c_rwatch   `awatch g_watched` (stops in bump), `rwatch g_counter` (stops in main
#              where the last printf reads it: Value = 7)
#   go_global  print and set a Go package variable (main.total), seen in the output
. "$(dirname "$0")/../lib/common.sh"
gt_init stub_memory example goroutines gtcprog

go_regs() {
	GT_ENV=GOMAXPROCS=1 gt_stub_start "$1" go_regs --once :0 "$GT_EXAMPLE" || return
	gt_gdb "$1" go_regs "$GT_EXAMPLE" <<EOF
target remote $GT_ADDR
break main.say
continue
echo @@regs\n
info registers rip fs_base
echo @@sp\n
x/8xg \$sp
echo @@ret\n
x/a \$sp
print \$sp == \$rsp
print \$fs_base != 0
print \$rbp - \$rsp
echo @@all\n
info registers
info registers fs_base gs_base orig_rax
echo @@end\n
kill
EOF
	gt_stub_wait "$1" go_regs
}
gt_each go_regs
gt_has go_regs rip '^rip +0x48[0-9a-f]+ +0x48[0-9a-f]+ <main\.say\+[0-9]+>$'
gt_has go_regs fs_base '^fs_base +0x[0-9a-f]+ +[0-9]+$'
gt_hasnt go_regs fs_base-nonzero '^fs_base +0x0 '
chk_x8() {
	local f n
	f=$(gt_f "$1" "$2" gdb)
	n=$(sed -n '/^@@sp/,/^@@ret/p' "$f" | grep -Ec '^0x[0-9a-f]+:'$'\t''0x[0-9a-f]{16}'$'\t''0x[0-9a-f]{16}$')
	[ "$n" = 4 ] || { echo "x/8xg \$sp printed $n lines of 2 giant words (want 4)"; return 1; }
}
gt_check go_regs x8xg-sp chk_x8
gt_has go_regs return-address '^0x[0-9a-f]+:'$'\t''0x[0-9a-f]+ <main\.main\+[0-9]+>$'
gt_has go_regs sp-is-rsp '^\$1 = true$'
gt_has go_regs fs_base-set '^\$2 = true$'
gt_has go_regs frame-size '^\$3 = 24$'
gt_has go_regs regs-orig_rax '^orig_rax '
gt_has go_regs regs-gs_base '^gs_base '
gt_has go_regs regs-eflags '^eflags +0x[0-9a-f]+ +\['
regs() { sed -n '/^@@regs/,/^@@sp/p'; }
# Where the Go heap puts the main goroutine's stack differs between runs
# (0xc00006c000 or 0xc000064000), so heap addresses are masked; the other words
# (return address, function pointers, zeros) must be the same on both sides.
goheap() { sed -E 's/0x(000000)?c000[0-9a-f]{6}/GOHEAP/g'; }
words() { sed -n '/^@@sp/,/^@@ret/p' | goheap; }
ret() { sed -n '/^@@ret/,/^@@all/p' | goheap; }
# k0-k7 (AVX-512 masks) appear only when a stub describes that optional
# feature (gdbserver does on a CPU that has it); the issue asks for the core,
# SSE and linux (orig_rax, fs_base, gs_base) registers.
regnames() { sed -n '/^@@all/,/^@@end/p' | awk '{print $1}' | grep -Ev '^k[0-7]$'; }
# register values that are the same in any run at this stop
fixedregs() { sed -n '/^@@all/,/^@@end/p' | grep -E '^(rip|cs|ss|ds|es|fs|gs|fs_base|gs_base) '; }
gt_same go_regs registers regs
gt_same go_regs x8xg-sp words
gt_same go_regs return-address ret
gt_same go_regs register-names regnames
gt_same go_regs register-values fixedregs

c_data() {
	gt_stub_start "$1" c_data --once :0 "$GT_CPROG" || return
	gt_gdb "$1" c_data "$GT_CPROG" <<EOF
target remote $GT_ADDR
break compute
continue
echo @@globals\n
print g_counter
print gtshared_calls
print &g_counter
echo @@setvar\n
set var g_counter = 42
print g_counter
set {int}&g_watched = 100
print g_watched
set var g_watched = 0
x/4xb &g_counter
echo @@bad\n
x/xg 0
print *(int *)8
echo @@big\n
dump binary memory $GT_T/$1.c_data.dump (char*)&printf (char*)&printf+65536
print \$_as_string(1)
echo @@end\n
delete
continue
EOF
	gt_stub_wait "$1" c_data
}
gt_each c_data
gt_has c_data print-global '^\$1 = 7$'
gt_has c_data print-lib-global '^\$2 = 0$'
gt_has c_data aslr-off '^\$3 = \(int \*\) 0x5555[0-9a-f]+ <g_counter>$'
gt_has c_data set-var '^\$4 = 42$'
gt_has c_data set-mem '^\$5 = 100$'
gt_has c_data x4xb '^0x[0-9a-f]+ <g_counter>:'$'\t''0x2a'$'\t''0x00'$'\t''0x00'$'\t''0x00$'
gt_has c_data unreadable 'Cannot access memory at address 0x0$'
gt_has c_data unreadable-8 'Cannot access memory at address 0x8$'
gt_has c_data exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 052\]$'
gt_has c_data program-output '^gtcprog: done counter=42 watched=23 usr1=0$' out
chk_dump() {
	local f
	f=$(gt_f "$1" "$2" dump)
	[ -f "$f" ] || { echo "no dump file (dump binary memory failed)"; return 1; }
	[ "$(stat -c %s "$f")" = 65536 ] || { echo "dump is $(stat -c %s "$f") bytes, want 65536"; return 1; }
}
gt_check c_data read-64k chk_dump
gt_same c_data values gt_k_values
gt_same c_data program-output cat out
md5() { md5sum | cut -d' ' -f1; }
gt_same c_data read-64k-bytes md5 dump

c_watch() {
	gt_stub_start "$1" c_watch --once :0 "$GT_CPROG" || return
	gt_gdb "$1" c_watch "$GT_CPROG" <<EOF
target remote $GT_ADDR
break main
continue
watch g_watched
continue
echo @@w1\n
bt 1
continue
echo @@w2\n
print g_watched
delete
continue
EOF
	gt_stub_wait "$1" c_watch
}
gt_each c_watch
gt_has c_watch set '^Hardware watchpoint 2: g_watched$'
gt_has c_watch old0 '^Old value = 0$'
gt_has c_watch new21 '^New value = 21$'
gt_has c_watch new22 '^New value = 22$'
gt_has c_watch stop-in-bump '^#0 +bump \(by=21\) at .*gtcprog\.c:[0-9]+$'
gt_has c_watch value '^\$1 = 22$'
gt_has c_watch exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_same c_watch stops gt_k_stops
gt_same c_watch user-view gt_k_user

# rwatch/awatch: read and access watchpoints (Z3/Z4, stop reasons rwatch/awatch)
c_rwatch() {
	gt_stub_start "$1" c_rwatch --once :0 "$GT_CPROG" || return
	gt_gdb "$1" c_rwatch "$GT_CPROG" <<EOF
target remote $GT_ADDR
break compute
continue
awatch g_watched
continue
echo @@aw\n
bt 1
delete
rwatch g_counter
continue
echo @@rw\n
bt 1
delete
continue
EOF
	gt_stub_wait "$1" c_rwatch
}
gt_each c_rwatch
gt_has c_rwatch awatch-set '^Hardware access \(read/write\) watchpoint 2: g_watched$'
gt_has c_rwatch awatch-hit '^(Value = 0|Old value = 0)$'
gt_has c_rwatch awatch-in-bump '^#0 +(0x[0-9a-f]+ in )?bump \(by=21\) at .*gtcprog\.c:[0-9]+$'
gt_has c_rwatch rwatch-set '^Hardware read watchpoint 3: g_counter$'
gt_has c_rwatch rwatch-hit '^Value = 7$'
gt_has c_rwatch rwatch-in-main '^#0 +(0x[0-9a-f]+ in )?main \(argc=1, argv=0x[0-9a-f]+\) at .*gtcprog\.c:[0-9]+$'
gt_has c_rwatch exit-code '^\[Inferior 1 \(process [0-9]+\) exited with code 07\]$'
gt_same c_rwatch stops gt_k_stops
gt_same c_rwatch frames gt_k_frames

go_global() {
	gt_stub_start "$1" go_global --once :0 "$GT_GOROUTINES" || return
	gt_gdb "$1" go_global "$GT_GOROUTINES" <<EOF
target remote $GT_ADDR
break main.checkpoint
continue
print main.total
set var main.total = 100
print main.total
delete
continue
EOF
	gt_stub_wait "$1" go_global
}
gt_each go_global
gt_has go_global print '^\$1 = 0$'
gt_has go_global set '^\$2 = 100$'
gt_has go_global exit '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
gt_has go_global output '^goroutines: workers=6 parked=200 sum=210 total=106$' out
gt_same go_global values gt_k_values
gt_same go_global program-output cat out

gt_packets_check
