//go:build !windows

package testenv

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestExclusiveSerializes(t *testing.T) {
	path := filepath.Join(os.TempDir(), "framecast-test-selftest.lock")
	tryLock := func() error {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	t.Run("holder", func(t *testing.T) {
		Exclusive(t, "selftest")
		if err := tryLock(); err == nil {
			t.Fatal("a second holder got the lock")
		}
		// Asking again from the same test (a retried recording) must not
		// wait for itself.
		done := make(chan struct{})
		go func() { Exclusive(t, "selftest"); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a test asking again for the lock it holds waits for itself")
		}
	})
	if err := tryLock(); err != nil {
		t.Fatalf("lock still held after the test ended: %v", err)
	}
}
