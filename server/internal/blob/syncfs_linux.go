package blob

import (
	"os"

	"golang.org/x/sys/unix"
)

// canSyncFS: Linux flushes a whole file system with one syncfs.
const canSyncFS = true

func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
