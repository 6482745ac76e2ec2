//go:build !windows

package testenv

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Exclusive makes the test hold a machine-wide lock called name until it
// ends, so CPU-heavy tests of different packages (go test runs packages in
// parallel) take turns instead of starving each other: a recording test
// that measures frame rates and audio timing is only meaningful when it
// has the CPU it needs. A test that already holds the lock (one that
// records again after a disturbed attempt) keeps it: flock locks belong
// to an open file, so locking a second one would wait for ourselves.
func Exclusive(t testing.TB, name string) {
	t.Helper()
	heldMu.Lock()
	if held[name] == t {
		heldMu.Unlock()
		return
	}
	heldMu.Unlock()
	path := filepath.Join(os.TempDir(), "framecast-test-"+name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("lock %s: %v", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", path, err)
	}
	heldMu.Lock()
	held[name] = t
	heldMu.Unlock()
	t.Cleanup(func() {
		heldMu.Lock()
		delete(held, name)
		heldMu.Unlock()
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// held maps each lock this process holds to the test holding it.
var (
	heldMu sync.Mutex
	held   = map[string]testing.TB{}
)
