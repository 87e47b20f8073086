// pt_gohot.go — a Go program for the ptrace backend's tests (tests/unit/stub_pt_go.c).
//
// 16 goroutines on several threads each call hot() 200 times with busy work
// in between (so the runtime preempts them with SIGURG and starts threads).
// Prints "total N" and exits 0 iff every call was counted.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

var count int64
var sink int64

//go:noinline
func hot(i int) int64 {
	return atomic.AddInt64(&count, 1) + int64(i)
}

func work(n int) int64 {
	var s int64
	for i := 0; i < n; i++ {
		s += int64(i * i)
	}
	return s
}

func main() {
	const g, n = 16, 200
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			var s int64
			for k := 0; k < n; k++ {
				s += hot(k)
				s += work(200000)
				if k%50 == 0 {
					runtime.Gosched()
				}
			}
			atomic.AddInt64(&sink, s)
		}(i)
	}
	wg.Wait()
	fmt.Printf("total %d\n", count)
	if count != g*n {
		os.Exit(1)
	}
}
