package sync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrClaimed means another process already runs the uploader on this queue.
var ErrClaimed = errors.New("another Framecast (the app, `framecast record` or `framecast sync`) is already uploading this queue; it will deliver the segments")

var errHeld = errors.New("lock held")

// Claim makes this process the queue's only uploader until release is
// called or the process ends (the operating system drops the lock even
// after kill -9, so a crash never leaves the queue claimed).
func Claim(queueDir string) (release func(), err error) {
	if err := os.MkdirAll(queueDir, 0o700); err != nil {
		return nil, fmt.Errorf("claim the upload queue: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(queueDir, "uploader.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("claim the upload queue: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errHeld) {
			return nil, ErrClaimed
		}
		return nil, fmt.Errorf("claim the upload queue: %w", err)
	}
	return func() { f.Close() }, nil
}
