// script_grow: a program whose goroutine stacks grow often, for the seed's
// sampled script (every 1000th runtime.newstack hit).  Each of 3000
// goroutines starts on a fresh 2 KiB stack and recurses in main.say deep
// enough to need 32 KiB, so every goroutine grows its stack four times
// (2->4->8->16->32 KiB): about 12,000 growths, one goroutine at a time.
package main

import (
	"fmt"
	"sync"
)

//go:noinline
func say(depth int, pad [8]uint64) uint64 {
	if depth == 0 {
		return pad[0]
	}
	pad[depth%8] += uint64(depth)
	return say(depth-1, pad) + pad[1]
}

func main() {
	var total uint64
	for i := 0; i < 3000; i++ {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			total += say(180, [8]uint64{})
		}()
		wg.Wait()
	}
	fmt.Println("done", total)
}
