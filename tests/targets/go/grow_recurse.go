// grow_recurse: gotap's deterministic stack-growth workload.  Run with
// GOMAXPROCS=1 GOGC=off (main sets both again): eight goroutines, one after
// the other, recurse to a fixed depth through a ~280-byte frame, so each
// grows its 2 KiB stack 2 -> 4 -> ... -> 512 KiB, the same events on every
// run.  tests/integration/ana_*.sh check gotap's first frame against the
// line of recurse's prologue.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
)

const depth = 1500
const goroutines = 8

//go:noinline
func recurse(n int) int {
	var pad [32]uint64 // 256 bytes + spills and return address: ~280-byte frame
	pad[n%32] = uint64(n)
	if n == 0 {
		return int(pad[0])
	}
	return recurse(n-1) + int(pad[(n+1)%32])
}

func main() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	sum := 0
	for i := 0; i < goroutines; i++ {
		done := make(chan int)
		go func() { done <- recurse(depth) }()
		sum += <-done
	}
	fmt.Println("grow_recurse: goroutines", goroutines, "depth", depth, "sum", sum)
	os.Exit(0)
}
