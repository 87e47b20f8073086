// grow_signals: signals must reach a program analyzed by gotap.  It catches
// SIGUSR1 (a signal gotap passes without a stop, QPassSignals) and SIGINT
// (one gotap does not pass: the stop reaches gotap, which must resume the
// program delivering it), sends both to itself while goroutines grow their
// stacks, and prints "grow_signals: usr1 int" once both arrived.
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
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGINT)
	done := make(chan int)
	for i := 0; i < 4; i++ {
		go func() { done <- recurse(400) }()
	}
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	for i := 0; i < 4; i++ {
		<-done
	}
	got := map[os.Signal]bool{}
	timeout := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case s := <-ch:
			got[s] = true
		case <-timeout:
			fmt.Println("grow_signals: timed out, got", got)
			os.Exit(1)
		}
	}
	fmt.Println("grow_signals: usr1 int")
}
