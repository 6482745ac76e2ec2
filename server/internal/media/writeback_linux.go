package media

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks Linux to start writing [off, off+n) of f to disk
// without waiting (sync_file_range SYNC_FILE_RANGE_WRITE): the data is
// not durable yet, but the fsync that follows has little left to do.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
