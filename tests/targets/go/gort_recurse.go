// gort_recurse: a deterministic stack-growth workload for gort's unit tests
// (tests/unit/ana_gort.c).  A goroutine recurses deep enough to double its
// stack several times (2 KiB -> 64 KiB); another goroutine calls a function
// with a 20 KiB frame, which makes newstack double more than once in one
// growth (2 KiB -> 32 KiB).  Run it with GOMAXPROCS=1 GOGC=off for the same
// events on every run.
package main

import (
	"fmt"
	"os"
)

//go:noinline
func recurse(n int) int {
	var pad [32]byte
	pad[n%32] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return recurse(n-1) + int(pad[n%32])
}

//go:noinline
func bigframe(n int) int {
	var big [20 << 10]byte
	for i := range big {
		big[i] = byte(i + n)
	}
	return int(big[n])
}

func run(done chan int) {
	done <- recurse(500)
}

func runbig(done chan int) {
	done <- bigframe(7)
}

func main() {
	done := make(chan int)
	go run(done)
	a := <-done
	go runbig(done)
	b := <-done
	fmt.Println("result", a, b)
	os.Exit(0)
}
