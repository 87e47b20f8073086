// grow_slow: a long-running program for gotap --pid: every 50 ms a new
// goroutine recurses (its stack grows five times), 60 rounds (~3 s), then it
// prints "grow_slow: finished 60 rounds" and exits with status 3, so a test
// can tell its own exit status from a signal's.
package main

import (
	"fmt"
	"os"
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
	const rounds = 60
	sum := 0
	for i := 0; i < rounds; i++ {
		done := make(chan int)
		go func() { done <- recurse(300) }()
		sum += <-done
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println("grow_slow: finished", rounds, "rounds", sum)
	os.Exit(3)
}
