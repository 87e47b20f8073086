// inline_grow: one stack growth, always at the same place, under an inlined
// call: a fresh goroutine (2 KiB stack) calls caller -> helper (inlined into
// caller) -> big, whose 8 KiB frame does not fit.  The growth's backtrace is
// big, then helper (inlined) at its call of big, then caller at its call of
// helper (tests/integration/ana_inline.sh).
package main

import "fmt"

//go:noinline
func big(n int) int {
	var buf [8192]byte
	buf[n%len(buf)] = byte(n)
	return int(buf[(n*7)%len(buf)]) + n
}

func helper(n int) int {
	return big(n) + 1 // HELPER-CALL
}

//go:noinline
func caller(n int) int {
	return helper(n) * 2 // CALLER-CALL
}

func main() {
	done := make(chan int)
	go func() { done <- caller(3) }()
	fmt.Println("inline_grow:", <-done)
}
