// growth.go — the `make bench` workload: many goroutine stack growths, each
// one a call of runtime.newstack, at a rate and count we choose.
//
// G goroutines (-g) run, at most W (-w) at a time; each one recurses D (-d)
// levels deep through a function whose frame is about 300 bytes (a 256-byte
// array and spills: `sub $0x120,%rsp` with Go 1.19, plus the return address).
// A new goroutine starts with a 2 KiB stack, so with the default D=100
// (~29 KiB of frames) each one grows 2K->4K->8K->16K->32K: 4 growths per
// goroutine, plus 1 for the main goroutine during start-up, i.e. 4*G+1
// growth events (runtime.newstack entries that copy the stack).  A slow
// tracer adds newstack entries that are preemption requests, not growths.
// The frames are real (the array is written and read) so the compiler cannot
// shrink them; recurse is never inlined.
//
// -idle N (default 0) first starts N more goroutines that park on a channel
// for the whole run and make no growth (a parked goroutine keeps its 2 KiB
// stack), so that the process has N+G' goroutines alive while the growths
// happen: what `make bench` uses to see whether a tool's cost per growth
// depends on how many goroutines exist (issue 6, goal 3).  They are all
// started before the first growth goroutine and released at the end.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
)

var total uint64 // keeps the results live

//go:noinline
func recurse(depth int) uint64 {
	var frame [256]byte
	frame[depth%len(frame)] = byte(depth)
	if depth <= 0 {
		return uint64(frame[0])
	}
	return recurse(depth-1) + uint64(frame[(depth*13)%len(frame)])
}

func main() {
	g := flag.Int("g", 1000, "goroutines to run in total")
	w := flag.Int("w", 4, "goroutines running at once, at most")
	d := flag.Int("d", 100, "recursion depth of each goroutine (~300 bytes per level)")
	idle := flag.Int("idle", 0, "goroutines parked on a channel during the whole run (no growth)")
	flag.Parse()
	if *g < 0 || *w < 1 || *d < 0 || *idle < 0 {
		fmt.Fprintln(os.Stderr, "growth: -g >= 0, -w >= 1, -d >= 0, -idle >= 0")
		os.Exit(2)
	}

	// the parked goroutines: each blocks at once on park, with a frame far
	// below 2 KiB, so none of them grows; parked counts them in
	var parked sync.WaitGroup
	park := make(chan struct{})
	parked.Add(*idle)
	for i := 0; i < *idle; i++ {
		go func() {
			parked.Done()
			<-park
		}()
	}
	parked.Wait()

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	slots := make(chan struct{}, *w)
	for i := 0; i < *g; i++ {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := recurse(*d)
			mu.Lock()
			total += r
			done++
			mu.Unlock()
			<-slots
		}()
	}
	wg.Wait()
	live := runtime.NumGoroutine()
	close(park)
	fmt.Printf("growth: %d goroutines done (%d), %d parked, %d goroutines alive at the end\n",
		done, total&1, *idle, live)
}
