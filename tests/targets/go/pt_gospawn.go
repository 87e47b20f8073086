// pt_gospawn.go — a Go program that spawns children (os/exec: clone with
// CLONE_VFORK|CLONE_VM) while calling a hot function, for the ptrace
// backend's tests (tests/unit/stub_pt_go.c).  Runs /bin/true 100 times from
// 4 goroutines, calls hot() once per spawn; prints "spawned 100 failed 0"
// and exits 0 iff every child exited 0.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
)

var count int64

//go:noinline
func hot() { atomic.AddInt64(&count, 1) }

func main() {
	var failed int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				hot()
				if err := exec.Command("/bin/true").Run(); err != nil {
					atomic.AddInt64(&failed, 1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("spawned %d failed %d\n", count, failed)
	if failed != 0 || count != 100 {
		os.Exit(1)
	}
}
