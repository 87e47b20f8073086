// grow_preempt: a busy program that the scheduler preempts often.  Two
// goroutines share one P and spin through a small non-inlined function; run
// with GODEBUG=asyncpreemptoff=1 every preemption is a stackguard0 =
// stackPreempt request caught in a function prologue, i.e. an entry into
// runtime.newstack that is NOT a growth.  A fixed recursion in each spinner
// adds real growths to count against.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"
)

//go:noinline
func step(x uint64) uint64 { return x*6364136223846793005 + 1442695040888963407 }

//go:noinline
func recurse(n int) int {
	var pad [32]uint64
	pad[n%32] = uint64(n)
	if n == 0 {
		return 0
	}
	return recurse(n-1) + int(pad[(n+3)%32]&1)
}

func spin(d time.Duration, out chan uint64) {
	x := uint64(recurse(600))
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x = step(x)
		}
	}
	out <- x
}

func main() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	out := make(chan uint64)
	go spin(700*time.Millisecond, out)
	go spin(700*time.Millisecond, out)
	a, b := <-out, <-out
	fmt.Println("grow_preempt: done", (a^b)&1 < 2)
}
