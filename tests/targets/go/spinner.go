// spinner: a busy Go target for the interrupt scenarios. Three goroutines spin
// until the package variable stop is set (by gdb: `set var main.stop = 1`), so
// several threads run at once, the runtime sends SIGURG to preempt them (which
// must pass through the stub without a stop), and gdb's ^C must stop them all.
// Prints "spinner: spinning" once they run, "spinner: done workers=3" at the end.
package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// stop ends the spin loops; only gdb sets it (the program never stops by itself
// before 60 s).
var stop int32 = 0

//go:noinline
func spin(id int, wg *sync.WaitGroup) {
	n := 0
	for atomic.LoadInt32(&stop) == 0 {
		n++
	}
	_ = n
	wg.Done()
}

func main() {
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go spin(i, &wg)
	}
	fmt.Println("spinner: spinning")
	go func() {
		time.Sleep(60 * time.Second)
		fmt.Println("spinner: nobody stopped me")
		os.Exit(3)
	}()
	wg.Wait()
	fmt.Println("spinner: done workers=3")
}
