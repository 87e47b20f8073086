// fault_gowait: the Go target of tests/integration/fault_analyzer.sh.  It
// prints "fault_gowait: waiting pid=N", then every 10 ms starts a goroutine
// whose stack grows several times (so gotap's breakpoint on runtime.newstack
// is hot), until SIGUSR1 arrives; then it prints "fault_gowait: done" and
// exits with status 3 (a status a signal death cannot give).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

//go:noinline
func recurse(n int) int {
	var pad [32]uint64
	pad[n%32] = uint64(n)
	if n == 0 {
		return 0
	}
	return recurse(n-1) + int(pad[(n+3)%32]&1)
}

func main() {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	fmt.Printf("fault_gowait: waiting pid=%d\n", os.Getpid())
	sum := 0
	for {
		select {
		case <-usr1:
			fmt.Println("fault_gowait: done")
			os.Exit(3)
		default:
		}
		done := make(chan int)
		go func() { done <- recurse(300) }()
		sum += <-done
		time.Sleep(10 * time.Millisecond)
	}
}
