package media

import (
	"testing"
	"time"
)

func TestLockTakeover(t *testing.T) {
	var tbl lockTable
	tbl.held = map[string]*holder{}
	aborted := make(chan struct{})
	var release func()
	release, ok := tbl.acquire("v/0", func() { close(aborted) })
	if !ok {
		t.Fatal("first acquire failed")
	}
	go func() {
		<-aborted // the holder notices and lets go
		release()
	}()
	r2, ok := tbl.acquire("v/0", nil)
	if !ok {
		t.Fatal("takeover failed")
	}
	// A holder that cannot be aborted makes a newcomer give up in time.
	start := time.Now()
	if _, ok := tbl.acquire("v/0", nil); ok {
		t.Fatal("acquired a held lock")
	}
	if d := time.Since(start); d < takeoverWait || d > takeoverWait+time.Second {
		t.Fatalf("gave up after %v, want about %v", d, takeoverWait)
	}
	r2()
	r2() // releasing twice is harmless
	if r3, ok := tbl.acquire("v/0", nil); !ok {
		t.Fatal("lock not released")
	} else {
		r3()
	}
}
