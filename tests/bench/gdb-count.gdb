# gdb-count.gdb — stock gdb counting runtime.newstack hits (make bench).
# Used for gdb native (`-ex run`) and for gdb over a remote stub (gdbserver,
# gotap-stub: `-ex 'target remote | STUB - PROG ARGS' -ex continue`); the
# driver prints $n at the end ("HITS N").
# `break *'runtime.newstack'` plants one location, at the ABIInternal entry;
# `break runtime.newstack` would add the .abi0 wrapper too (2 stops per call).
# Go preempts with SIGURG: pass it silently, as the Go runtime expects.
set pagination off
set confirm off
set print thread-events off
set print inferior-events off
handle SIGURG nostop noprint pass
set $n = 0
break *'runtime.newstack'
commands
silent
set $n = $n + 1
continue
end
