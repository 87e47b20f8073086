// grow_many: 1000 goroutines at GOMAXPROCS=2.  Each recurses enough to grow
// its stack a few times, then parks; a forced GC shrinks the parked stacks
// (copystack calls that gotap must ignore); then all finish.  Prints
// "grow_many: 1000 goroutines done" and exits 0.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

//go:noinline
func recurse(n int) int {
	var pad [32]uint64
	pad[n%32] = uint64(n)
	if n == 0 {
		return 0
	}
	return recurse(n-1) + int(pad[(n+5)%32]&1)
}

func main() {
	runtime.GOMAXPROCS(2)
	const n = 1000
	var grown, done sync.WaitGroup
	release := make(chan struct{})
	grown.Add(n)
	done.Add(n)
	total := make([]int, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			total[i] = recurse(100 + i%200)
			grown.Done()
			<-release
		}(i)
	}
	grown.Wait()
	runtime.GC() // parked goroutines' stacks are mostly unused now: shrink them
	runtime.GC()
	close(release)
	done.Wait()
	fmt.Println("grow_many:", n, "goroutines done")
}
