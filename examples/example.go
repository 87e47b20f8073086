// The example from the SystemTap article that started gotap: a goroutine and
// main both print five times; fmt.Println's call chain is deep enough to make
// the 2 KiB starting stack of a goroutine grow.
package main

import (
	"fmt"
	"time"
)

func say(s string) {
	for i := 0; i < 5; i++ {
		time.Sleep(1 * time.Millisecond)
		fmt.Println(s)
	}
}

func main() {
	go say("world")
	say("hello")
}
