// goroutines: the many-goroutine Go target of the integration scenarios.
//
// main starts 200 goroutines parked on a channel, and nWorkers workers that
// each block in a raw read(2) on a pipe of their own. A goroutine in a blocking
// syscall keeps its OS thread, and that thread's stack is the goroutine's stack,
// so while main sits in main.checkpoint exactly nWorkers threads show
// main.worker in gdb's `bt` and the thread count is at least nWorkers+1 —
// deterministic, whatever the scheduler does. main polls /proc/self/task/*/syscall
// until every worker's pipe fd is being read by some thread before it calls checkpoint.
// Then it releases everyone and prints "goroutines: workers=6 parked=200 sum=N".
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const nWorkers = 6
const nParked = 200

// total is a global gdb prints (a Go package variable).
var total int = 0

//go:noinline
func worker(id int, fd int, out chan<- int) {
	var b [1]byte
	syscall.Read(fd, b[:]) // blocks in read(2) until main writes
	out <- id * 10
}

//go:noinline
func checkpoint(n int) int {
	total += n
	return total
}

// inRead counts the fds in fds that some thread of this process is blocked
// reading: /proc/self/task/T/syscall is "0 0xFD ..." for a thread in read(2)
// (syscall 0 on amd64).  Matching the fd matters: the thread doing this scan
// is itself in read(2) on the /proc file while it reads it.
func inRead(fds []int) int {
	paths, _ := filepath.Glob("/proc/self/task/*/syscall")
	reading := map[string]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		f := strings.Fields(string(b))
		if err == nil && len(f) > 1 && f[0] == "0" {
			reading[f[1]] = true
		}
	}
	n := 0
	for _, fd := range fds {
		if reading[fmt.Sprintf("0x%x", fd)] {
			n++
		}
	}
	return n
}

func main() {
	release := make(chan struct{})
	var parked sync.WaitGroup
	for i := 0; i < nParked; i++ {
		parked.Add(1)
		go func() {
			<-release
			parked.Done()
		}()
	}
	out := make(chan int, nWorkers)
	var readers, writers []int
	for i := 1; i <= nWorkers; i++ {
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			fmt.Println("pipe:", err)
			os.Exit(2)
		}
		readers = append(readers, p[0])
		writers = append(writers, p[1])
		go worker(i, p[0], out)
	}
	for deadline := time.Now().Add(60 * time.Second); inRead(readers) < nWorkers; {
		if time.Now().After(deadline) {
			fmt.Println("goroutines: workers never blocked")
			os.Exit(3)
		}
		time.Sleep(time.Millisecond)
	}
	checkpoint(nWorkers)
	for _, w := range writers {
		syscall.Write(w, []byte{1})
	}
	sum := 0
	for i := 0; i < nWorkers; i++ {
		sum += <-out
	}
	close(release)
	parked.Wait()
	fmt.Printf("goroutines: workers=%d parked=%d sum=%d total=%d\n", nWorkers, nParked, sum, total)
}
