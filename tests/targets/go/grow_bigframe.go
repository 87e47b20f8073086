// grow_bigframe: goroutines whose first call has a frame of 24 KiB, so
// runtime.newstack doubles a fresh 2 KiB stack several times in one growth
// (2 KiB -> 32 KiB): gotap must report new > 2 x old, the size copystack
// really allocates, not old x 2.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

//go:noinline
func bigframe(n int) int {
	var big [24 << 10]byte
	for i := range big {
		big[i] = byte(i + n)
	}
	return int(big[n%len(big)]) + int(big[(n*7)%len(big)])
}

func main() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	sum := 0
	for i := 0; i < 5; i++ {
		done := make(chan int)
		go func(i int) { done <- bigframe(i) }(i)
		sum += <-done
	}
	fmt.Println("grow_bigframe: sum", sum)
}
