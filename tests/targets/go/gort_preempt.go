// gort_preempt: two CPU-bound goroutines on one P (GOMAXPROCS=1), so the
// scheduler must preempt them; with GODEBUG=asyncpreemptoff=1 every
// preemption goes through the stack check (stackguard0 = stackPreempt) and
// enters runtime.newstack without growing anything.  Used by
// tests/unit/ana_gort_live.c to check gort_growth.preempt.
package main

import (
	"fmt"
	"time"
)

//go:noinline
func step(x int) int {
	return x*31 + 7
}

func spin(d time.Duration, done chan int) {
	x := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			x = step(x)
		}
	}
	done <- x
}

func main() {
	done := make(chan int)
	go spin(200*time.Millisecond, done)
	go spin(200*time.Millisecond, done)
	fmt.Println(<-done != 0, <-done != 0)
}
