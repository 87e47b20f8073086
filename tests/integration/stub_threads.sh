#!/usr/bin/env bash
# stub_threads: threads through the stub (qfThreadInfo/qsThreadInfo, H, T,
# qXfer:threads:read, all-stop), against gdbserver and gotap-stub alike:
#   go_threads  goroutines.go at main.checkpoint: 6 workers each blocked in read(2)
#               on a thread of its own; `info threads` lists >= 7 threads, `thread 2`
#               + `bt`, `thread N` + `bt` for every N: exactly 6 show main.worker,
#               the current one main.checkpoint <- main.main; every thread of the
#               process is stopped (all-stop) while gdb looks; then it runs to its end
#   go_example  the seed's example at main.say: several threads, each named "example"
. "$(dirname "$0")/../lib/common.sh"
gt_init stub_threads example goroutines

cat >"$GT_T/each-thread.gdb" <<'EOF'
set $i = 1
while $i <= $_inferior_thread_count
  echo @@thread\n
  thread $i
  bt
  set $i = $i + 1
end
EOF

go_threads() {
	gt_stub_start "$1" go_threads --once :0 "$GT_GOROUTINES" || return
	local pid=$GT_INF_PID
	gt_gdb "$1" go_threads "$GT_GOROUTINES" <<EOF
target remote $GT_ADDR
break main.checkpoint
continue
echo @@bt\n
bt
echo @@info-threads\n
info threads
echo @@states\n
shell grep -h '^State:' /proc/$pid/task/*/status | sort | uniq -c
echo @@thread2\n
thread 2
bt
echo @@each\n
source $GT_T/each-thread.gdb
echo @@end\n
print \$_inferior_thread_count >= 7
delete
continue
EOF
	gt_stub_wait "$1" go_threads
}
gt_each go_threads
gt_has go_threads stop '(hit )?Breakpoint 1, main\.checkpoint \(n=6[,)].* at .*goroutines\.go:[0-9]+$'
gt_has go_threads bt-main '^#1 +0x[0-9a-f]+ in main\.main \(\) at .*goroutines\.go:[0-9]+$'
chk_count() {
	local n
	n=$(sed -n '/^@@info-threads/,/^@@states/p' "$(gt_f "$1" "$2" gdb)" | grep -Ec '^[* ] +[0-9]+ +Thread [0-9]+\.[0-9]+ "goroutines" ')
	[ "$n" -ge 7 ] || { echo "info threads lists $n threads named \"goroutines\" (want >= 7)"; return 1; }
}
gt_check go_threads info-threads chk_count
gt_has go_threads thread-count '^\$1 = (1|true)$'
gt_has go_threads info-threads-current '^\* +[0-9]+ +Thread [0-9]+\.[0-9]+ "goroutines" +main\.checkpoint \(n=6[,)]'
chk_allstop() {
	local s
	s=$(sed -n '/^@@states/,/^@@thread2/p' "$(gt_f "$1" "$2" gdb)" | grep 'State:')
	[ -n "$s" ] || { echo "no thread states read from /proc"; return 1; }
	if echo "$s" | grep -qv 'State:.t (tracing stop)'; then
		echo "not every thread is stopped while gdb is at the breakpoint: $(echo "$s" | tr '\n' ' ')"
		return 1
	fi
}
gt_check go_threads all-stop chk_allstop
gt_has go_threads thread2-switch '^\[Switching to thread 2 \(Thread [0-9]+\.[0-9]+\)\]$'
# which OS thread is gdb's thread 2 differs between runs (the main goroutine
# moves between threads), so only the shape is checked: a Go frame #0 and #1.
chk_thread2_bt() {
	local t
	t=$(sed -n '/^@@thread2/,/^@@each/p' "$(gt_f "$1" "$2" gdb)")
	echo "$t" | grep -Eq '^#0 +(0x[0-9a-f]+ in )?(main|runtime|syscall|runtime/internal/syscall)\.[a-zA-Z0-9_.]+ \(' ||
		{ echo "thread 2's bt has no Go frame #0"; return 1; }
	echo "$t" | grep -Eq '^#1 +0x[0-9a-f]+ in [a-z]' || { echo "thread 2's bt has no frame #1"; return 1; }
}
gt_check go_threads thread2-bt chk_thread2_bt
# each thread's main.* frames, one line a thread, sorted: 6 x "main.worker", and
# one "main.checkpoint main.main"
# for each thread the innermost main.* function of its bt (or "-"), counted:
# "6 main.worker" and "1 main.checkpoint"; the runtime's own threads give "-".
mainframes() {
	sed -n '/^@@each/,/^@@end/p' | awk '
		/^@@thread/ { if (started) print (f == "" ? "-" : f); started = 1; f = ""; inbt = 0; next }
		/^\[Switching/ { inbt = 0; next }
		/^#0 / { inbt++ }
		/^#[0-9]+ / && inbt == 2 && f == "" { for (i = 2; i <= NF; i++) if ($i ~ /^main\./) { f = $i; break } }
		/^#0 / && inbt == 1 { next }
		END { if (started) print (f == "" ? "-" : f) }' | grep -v '^-$' | sort | uniq -c
}
chk_workers() {
	local k
	k=$(mainframes <"$(gt_f "$1" "$2" gdb)")
	echo "$k" | grep -Eq '^ +6 main\.worker$' || { echo "not exactly 6 threads in main.worker: $(echo "$k" | tr '\n' '|')"; return 1; }
	echo "$k" | grep -Eq '^ +1 main\.checkpoint$' || { echo "not exactly 1 thread in main.checkpoint: $(echo "$k" | tr '\n' '|')"; return 1; }
}
gt_check go_threads thread-N-bt chk_workers
gt_has go_threads exit '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
gt_has go_threads output '^goroutines: workers=6 parked=200 sum=210 total=6$' out
gt_same go_threads thread-N-bt mainframes
# the number of runtime threads varies from run to run: one marker per thread
stops() { gt_k_stops | grep -v '^@@thread$'; }
gt_same go_threads stops stops
gt_same go_threads program-output cat out

go_example() {
	GT_ENV=GOMAXPROCS=1 gt_stub_start "$1" go_example --once :0 "$GT_EXAMPLE" || return
	gt_gdb "$1" go_example "$GT_EXAMPLE" <<EOF
target remote $GT_ADDR
break main.say
continue
echo @@info-threads\n
info threads
echo @@end\n
kill
EOF
	gt_stub_wait "$1" go_example
}
gt_each go_example
chk_ex_count() {
	local n
	n=$(sed -n '/^@@info-threads/,/^@@end/p' "$(gt_f "$1" "$2" gdb)" | grep -Ec '^[* ] +[0-9]+ +Thread [0-9]+\.[0-9]+ "example" ')
	[ "$n" -ge 2 ] || { echo "info threads lists $n threads named \"example\" (want >= 2)"; return 1; }
}
gt_check go_example info-threads chk_ex_count
gt_has go_example current '^\* 1 +Thread [0-9]+\.[0-9]+ "example" +main\.say \(s=.*\) at .*example\.go:9$'

gt_packets_check
